//! Driving a [`SampleSource`] through the real-time [`Pipeline`]: the same
//! per-sample path a device uses, only without waiting.

use std::path::Path;

use levator_core::detect::{Pipeline, PipelineConfig, Snapshot};
use levator_core::event::Event;
use levator_core::stream::{SampleSource, SourceItem};

use crate::error::{CliError, CliResult};

/// Loads a pipeline configuration from a TOML file. The file may set any
/// subset of [`PipelineConfig`]'s fields (nested tables for nested
/// configs); the rest keep their defaults. A key the configuration does
/// not have is an error (a typo must not be silently ignored).
pub fn load_config(path: Option<&Path>) -> CliResult<PipelineConfig> {
    let Some(path) = path else {
        return Ok(PipelineConfig::default());
    };
    let shown = path.display();
    let text =
        std::fs::read_to_string(path).map_err(|e| CliError::new(format!("config {shown}: {e}")))?;
    parse_config(&text).map_err(|e| CliError::new(format!("config {shown}: {e}")))
}

/// Parses a partial TOML configuration over the defaults.
pub fn parse_config(text: &str) -> Result<PipelineConfig, String> {
    let user: toml::Table = toml::from_str(text).map_err(|e| one_line(&e.to_string()))?;
    let mut merged = toml::Table::try_from(PipelineConfig::default())
        .map_err(|e| format!("default configuration cannot be written as TOML: {e}"))?;
    merge(&mut merged, &user);
    let config: PipelineConfig = toml::Value::Table(merged)
        .try_into()
        .map_err(|e: toml::de::Error| one_line(&e.to_string()))?;
    // Every key the user wrote must survive a round trip, else serde ignored it.
    let back = toml::Table::try_from(config)
        .map_err(|e| format!("configuration cannot be written as TOML: {e}"))?;
    if let Some(key) = first_unknown(&user, &back, "") {
        return Err(format!("unknown key `{key}`"));
    }
    Ok(config)
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn merge(base: &mut toml::Table, over: &toml::Table) {
    for (k, v) in over {
        match (base.get_mut(k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            _ => {
                base.insert(k.clone(), v.clone());
            }
        }
    }
}

fn first_unknown(user: &toml::Table, known: &toml::Table, prefix: &str) -> Option<String> {
    for (k, v) in user {
        let path = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match (known.get(k), v) {
            (None, _) => return Some(path),
            (Some(toml::Value::Table(kt)), toml::Value::Table(ut)) => {
                if let Some(p) = first_unknown(ut, kt, &path) {
                    return Some(p);
                }
            }
            _ => {}
        }
    }
    None
}

/// Counters of one run.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct RunStats {
    /// Frames fed to the pipeline.
    pub frames: u64,
    /// Gaps reported by the source.
    pub gaps: u64,
    /// Samples the source reported missing.
    pub lost: u64,
    /// Stream time of the last sample (s).
    pub end_s: f64,
}

/// What the driver reports per source item.
pub struct Step<'a> {
    /// The item just fed; `None` for the final step (open intervals closed
    /// by [`Pipeline::finish`]).
    pub item: Option<&'a SourceItem>,
    /// Events the pipeline emitted for it (in order).
    pub events: &'a [Event],
    /// The pipeline's features after it.
    pub snapshot: Snapshot,
}

/// Feeds every item of `source` through `pipeline` (then `finish`),
/// calling `on_step` after each item. `on_step` returning `Ok(false)`
/// stops the run early (e.g. the reader of stdout went away).
pub fn run<S, F>(source: &mut S, pipeline: &mut Pipeline, mut on_step: F) -> CliResult<RunStats>
where
    S: SampleSource,
    S::Error: std::fmt::Display,
    F: FnMut(Step<'_>) -> CliResult<bool>,
{
    let spec = source.spec();
    let mut stats = RunStats::default();
    let mut events: Vec<Event> = Vec::with_capacity(16);
    loop {
        let item = match source.next_item() {
            Ok(Some(item)) => item,
            Ok(None) => break,
            Err(e) => return Err(CliError::new(e.to_string())),
        };
        events.clear();
        pipeline.push_item(&item, &mut |e: Event| events.push(e));
        match item {
            SourceItem::Frame(f) => {
                stats.frames += 1;
                stats.end_s = spec.time_s(f.index);
            }
            SourceItem::Gap { lost, .. } => {
                stats.gaps += 1;
                stats.lost += lost;
            }
        }
        let go_on = on_step(Step {
            item: Some(&item),
            events: &events,
            snapshot: pipeline.snapshot(),
        })?;
        if !go_on {
            return Ok(stats);
        }
    }
    events.clear();
    pipeline.finish(&mut |e: Event| events.push(e));
    on_step(Step {
        item: None,
        events: &events,
        snapshot: pipeline.snapshot(),
    })?;
    Ok(stats)
}

/// Runs `source` through a fresh pipeline and collects every event
/// (no printing); `on_progress` gets the frames done so far.
pub fn detect_all<S>(
    source: &mut S,
    config: PipelineConfig,
    mut on_progress: impl FnMut(u64),
) -> CliResult<(Vec<Event>, RunStats)>
where
    S: SampleSource,
    S::Error: std::fmt::Display,
{
    let mut pipeline = Pipeline::new(source.spec(), config)
        .map_err(|e| CliError::new(format!("pipeline: {e}")))?;
    let mut events = Vec::new();
    let mut frames = 0u64;
    let stats = run(source, &mut pipeline, |step| {
        events.extend_from_slice(step.events);
        if matches!(step.item, Some(SourceItem::Frame(_))) {
            frames += 1;
            if frames % 4096 == 0 {
                on_progress(frames);
            }
        }
        Ok(true)
    })?;
    Ok((events, stats))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_config_keeps_defaults() {
        let c = parse_config("warmup_s = 1.5\n").unwrap();
        assert_eq!(c.warmup_s, 1.5);
        assert_eq!(c.emg_window_ms, PipelineConfig::default().emg_window_ms);
        assert_eq!(parse_config("").unwrap(), PipelineConfig::default());
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        let e = parse_config("warmup_z = 1.5\n").unwrap_err();
        assert!(e.contains("unknown key `warmup_z`"), "{e}");
        let e = parse_config("warmup_s = \"soon\"\n").unwrap_err();
        assert!(!e.contains('\n'), "{e}");
        assert!(parse_config("warmup_s = = 1").is_err());
    }
}
