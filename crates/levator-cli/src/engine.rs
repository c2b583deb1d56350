//! Driving a [`SampleSource`] through the real-time [`Pipeline`]: the same
//! per-sample path a device uses, only without waiting.

use std::path::Path;

use levator_core::conditioning::Mains;
use levator_core::detect::{Pipeline, PipelineConfig, Snapshot};
use levator_core::event::Event;
use levator_core::stream::{SampleSource, SourceItem};

use crate::error::{CliError, CliResult};

/// The mains frequency a user chose on the command line (`--mains 50|60|off`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MainsArg(pub Option<Mains>);

/// Parses `--mains`: `50`, `60` (Hz) or `off`/`none` (no notch).
pub fn parse_mains(s: &str) -> Result<MainsArg, String> {
    match s.trim().to_ascii_lowercase().trim_end_matches("hz") {
        "50" => Ok(MainsArg(Some(Mains::Hz50))),
        "60" => Ok(MainsArg(Some(Mains::Hz60))),
        "off" | "none" => Ok(MainsArg(None)),
        other => Err(format!("`{other}`: expected 50, 60 or off")),
    }
}

/// Reads a recording's `mains_hz=50|60|none` header value.
pub fn mains_from_header(value: &str) -> Option<Option<Mains>> {
    parse_mains(value).ok().map(|m| m.0)
}

/// A user's pipeline configuration (defaults + `--config` file) and where
/// its mains frequency may come from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct UserConfig {
    /// Defaults overlaid with the `--config` file.
    pub pipeline: PipelineConfig,
    /// The config file sets `mains` itself.
    pub file_sets_mains: bool,
    /// `--mains` on the command line.
    pub flag: Option<MainsArg>,
}

impl UserConfig {
    /// Loads `--config` (if any) and remembers `--mains`. The file may set
    /// any subset of [`PipelineConfig`]'s fields (nested tables for nested
    /// configs); the rest keep their defaults. A key the configuration does
    /// not have is an error (a typo must not be silently ignored).
    pub fn load(path: Option<&Path>, flag: Option<MainsArg>) -> CliResult<UserConfig> {
        let (pipeline, file_sets_mains) = match path {
            None => (PipelineConfig::default(), false),
            Some(p) => {
                let shown = p.display();
                let text = std::fs::read_to_string(p)
                    .map_err(|e| CliError::new(format!("config {shown}: {e}")))?;
                let config = parse_config(&text)
                    .map_err(|e| CliError::new(format!("config {shown}: {e}")))?;
                let sets = toml::from_str::<toml::Table>(&text)
                    .map(|t| t.contains_key("mains"))
                    .unwrap_or(false);
                (config, sets)
            }
        };
        Ok(UserConfig {
            pipeline,
            file_sets_mains,
            flag,
        })
    }

    /// The configuration for one recording. The mains frequency comes from
    /// `--mains`, else the config file, else the recording's own
    /// `mains_hz` header (`recording`), else the default (50 Hz): a 60 Hz
    /// recording analysed with 50 Hz notches keeps its hum.
    pub fn for_recording(&self, recording: Option<Option<Mains>>) -> PipelineConfig {
        let mut c = self.pipeline;
        if let Some(MainsArg(m)) = self.flag {
            c.mains = m;
        } else if !self.file_sets_mains {
            if let Some(m) = recording {
                c.mains = m;
            }
        }
        c
    }
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
    fn mains_precedence_flag_then_file_then_recording() {
        assert_eq!(parse_mains("60"), Ok(MainsArg(Some(Mains::Hz60))));
        assert_eq!(parse_mains("50Hz"), Ok(MainsArg(Some(Mains::Hz50))));
        assert_eq!(parse_mains("off"), Ok(MainsArg(None)));
        assert!(parse_mains("55").is_err());
        let dir = std::env::temp_dir().join(format!("levator-mains-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("c.toml");
        std::fs::write(&file, "mains = \"60\"\n").unwrap();
        let other = dir.join("d.toml");
        std::fs::write(&other, "emg_window_ms = 40.0\n").unwrap();
        let hint = Some(Some(Mains::Hz60));
        // nothing set: the recording's header wins over the default
        let u = UserConfig::load(None, None).unwrap();
        assert_eq!(u.for_recording(None).mains, Some(Mains::Hz50));
        assert_eq!(u.for_recording(hint).mains, Some(Mains::Hz60));
        assert_eq!(u.for_recording(Some(None)).mains, None);
        // a config file that does not mention mains leaves it to the header
        let u = UserConfig::load(Some(&other), None).unwrap();
        assert_eq!(u.for_recording(hint).mains, Some(Mains::Hz60));
        // a config file that sets it wins over the header
        std::fs::write(&file, "mains = \"50\"\n").unwrap();
        let u = UserConfig::load(Some(&file), None).unwrap();
        assert!(u.file_sets_mains);
        assert_eq!(u.for_recording(hint).mains, Some(Mains::Hz50));
        // the flag wins over everything
        let u = UserConfig::load(Some(&file), Some(MainsArg(None))).unwrap();
        assert_eq!(u.for_recording(hint).mains, None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

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
