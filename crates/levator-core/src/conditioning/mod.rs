//! (layer under construction)
