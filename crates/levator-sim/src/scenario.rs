//! Scenarios as data: what the simulated person does, and when.
//!
//! A scenario is a small TOML file: a name, a description and a list of
//! `[[step]]` tables run one after the other. Each step has a `kind` and
//! optional timing fields; `repeat` runs it several times and `jitter_s` /
//! `jitter_level` vary each repetition (drawn from the seed), as a real
//! person never squeezes twice the same.
//!
//! ```toml
//! name = "my_session"
//! description = "rest, three 5 s squeezes, one push"
//! artifacts_per_min = 0.0   # optional: random motion artefacts
//!
//! [[step]]
//! kind = "rest"
//! duration_s = 10.0
//!
//! [[step]]
//! kind = "contraction"   # rise, hold, then the subject's own release
//! repeat = 3
//! on_s = 5.0             # onset to start of release (includes the rise)
//! rest_s = 5.0           # start of release to the next onset
//! rise_s = 0.3           # optional; default: the subject's rise time
//! level = 0.7            # fraction of the subject's MVC
//! jitter_s = 0.3         # +- on on_s and rest_s
//! jitter_level = 0.1     # +- fraction on level
//!
//! [[step]]
//! kind = "push"
//! on_s = 15.0
//! rest_s = 20.0
//! ```
//!
//! | kind | meaning | defaults |
//! |---|---|---|
//! | `rest` | quiet rest for `duration_s` | — |
//! | `contraction` | Kegel: rise, hold, release | on 10 s, rest 10 s, level 0.7 |
//! | `flick` | quick flick: fast near-maximal Kegel | on 2 s, rest 10 s, level 1.0 |
//! | `endurance` | long hold; fatigue shows | on 60 s, rest 0 s, level 0.4 |
//! | `drop` | reverse Kegel: deliberate fall below resting tone | on 5 s, rest 10 s, level 1.0 (= the subject's full drop) |
//! | `push` | bearing down (Valsalva, simulated defecation) | on 15 s, rest 20 s, level 1.0 (= the subject's full push) |
//! | `cough` | a single cough (abdominal pressure spike) | rest 5 s, level 1.0 |
//! | `artifact` | a motion artefact of `on_s` (cable tug, probe bump) | on 0.3 s, rest 0 s, level 1.0 |
//!
//! Built-ins ([`Scenario::builtin`]): `glazer`, `glazer_short`,
//! `quick_flicks`, `endurance`, `reverse_kegel`, `bearing_down`,
//! `rest_10min`, `demo`.

use serde::Deserialize;

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The text is not valid TOML or does not match the format.
    #[error("scenario is not valid: {0}")]
    Parse(#[from] toml::de::Error),
    /// A field value is out of range.
    #[error("scenario step {step} ({kind}): {field} {problem}")]
    Invalid {
        /// 1-based step number.
        step: usize,
        /// The step's kind.
        kind: &'static str,
        /// The offending field.
        field: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// The scenario has no steps or lasts no time.
    #[error("scenario has no duration (no steps, or all zero)")]
    Empty,
    /// The scenario would last longer than [`MAX_DURATION_S`].
    #[error("scenario lasts more than {MAX_DURATION_S} s")]
    TooLong,
    /// No built-in scenario of that name.
    #[error("unknown built-in scenario {0:?} (known: {known})", known = BUILTIN_NAMES.join(", "))]
    Unknown(String),
    /// The scenario file could not be read.
    #[error("cannot read scenario file: {0}")]
    Io(#[from] std::io::Error),
}

/// Longest scenario accepted (24 h).
pub const MAX_DURATION_S: f64 = 86_400.0;

/// Names of the built-in scenarios, in a fixed order.
pub const BUILTIN_NAMES: [&str; 8] = [
    "glazer",
    "glazer_short",
    "quick_flicks",
    "endurance",
    "reverse_kegel",
    "bearing_down",
    "rest_10min",
    "demo",
];

fn builtin_text(name: &str) -> Option<&'static str> {
    Some(match name {
        "glazer" => include_str!("scenarios/glazer.toml"),
        "glazer_short" => include_str!("scenarios/glazer_short.toml"),
        "quick_flicks" => include_str!("scenarios/quick_flicks.toml"),
        "endurance" => include_str!("scenarios/endurance.toml"),
        "reverse_kegel" => include_str!("scenarios/reverse_kegel.toml"),
        "bearing_down" => include_str!("scenarios/bearing_down.toml"),
        "rest_10min" => include_str!("scenarios/rest_10min.toml"),
        "demo" => include_str!("scenarios/demo.toml"),
        _ => return None,
    })
}

/// What a step does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepKind {
    /// Quiet rest.
    Rest,
    /// A Kegel: rise, hold, release.
    Contraction,
    /// A quick flick (fast, near-maximal contraction).
    Flick,
    /// An endurance hold (fatigue shows).
    Endurance,
    /// A reverse-Kegel drop below resting tone.
    Drop,
    /// Bearing down (push).
    Push,
    /// A cough.
    Cough,
    /// A motion artefact.
    Artifact,
}

impl StepKind {
    /// The name used in scenario files.
    pub const fn name(self) -> &'static str {
        match self {
            StepKind::Rest => "rest",
            StepKind::Contraction => "contraction",
            StepKind::Flick => "flick",
            StepKind::Endurance => "endurance",
            StepKind::Drop => "drop",
            StepKind::Push => "push",
            StepKind::Cough => "cough",
            StepKind::Artifact => "artifact",
        }
    }

    /// Default (on_s, rest_s, level).
    const fn defaults(self) -> (f64, f64, f64) {
        match self {
            StepKind::Rest => (0.0, 0.0, 0.0),
            StepKind::Contraction => (10.0, 10.0, 0.7),
            StepKind::Flick => (2.0, 10.0, 1.0),
            StepKind::Endurance => (60.0, 0.0, 0.4),
            StepKind::Drop => (5.0, 10.0, 1.0),
            StepKind::Push => (15.0, 20.0, 1.0),
            StepKind::Cough => (0.3, 5.0, 1.0),
            StepKind::Artifact => (0.3, 0.0, 1.0),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StepFile {
    kind: StepKind,
    repeat: Option<u32>,
    duration_s: Option<f64>,
    on_s: Option<f64>,
    rest_s: Option<f64>,
    rise_s: Option<f64>,
    level: Option<f64>,
    jitter_s: Option<f64>,
    jitter_level: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    artifacts_per_min: f64,
    #[serde(default)]
    step: Vec<StepFile>,
}

/// One validated step of a scenario (all defaults filled in).
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// What the step does.
    pub kind: StepKind,
    /// How many times it is done in a row (>= 1).
    pub repeat: u32,
    /// Onset to start of release (contraction kinds), length of the drop or
    /// push plateau including its ramp, or of a rest step (s).
    pub on_s: f64,
    /// Time after `on_s` before the next step (s).
    pub rest_s: f64,
    /// Rise time override (s); `None` = the subject's own.
    pub rise_s: Option<f64>,
    /// Effort as a fraction of the subject's maximum (MVC, full drop, full push).
    pub level: f64,
    /// Uniform jitter (+-) applied to `on_s` and `rest_s` of each repetition (s).
    pub jitter_s: f64,
    /// Uniform relative jitter (+-) applied to `level` of each repetition.
    pub jitter_level: f64,
}

/// A validated scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// Short name (used in recording headers).
    pub name: String,
    /// One-line description.
    pub description: String,
    /// Rate of randomly placed motion artefacts (per minute; 0 = none).
    pub artifacts_per_min: f64,
    /// The steps, in order.
    pub steps: Vec<Step>,
}

fn check(
    ok: bool,
    step: usize,
    kind: StepKind,
    field: &'static str,
    problem: &'static str,
) -> Result<(), ScenarioError> {
    if ok {
        Ok(())
    } else {
        Err(ScenarioError::Invalid {
            step,
            kind: kind.name(),
            field,
            problem,
        })
    }
}

impl Scenario {
    /// Parses and validates a scenario from TOML text.
    ///
    /// ```
    /// use levator_sim::scenario::Scenario;
    /// let s = Scenario::from_toml(r#"
    ///     name = "two"
    ///     [[step]]
    ///     kind = "contraction"
    ///     repeat = 2
    ///     on_s = 3.0
    ///     rest_s = 4.0
    /// "#).unwrap();
    /// assert_eq!(s.nominal_duration_s(), 14.0);
    /// assert!(Scenario::from_toml("name = 1").is_err());
    /// ```
    pub fn from_toml(text: &str) -> Result<Scenario, ScenarioError> {
        let file: ScenarioFile = toml::from_str(text)?;
        let mut steps = Vec::with_capacity(file.step.len());
        for (i, s) in file.step.into_iter().enumerate() {
            let n = i + 1;
            let k = s.kind;
            let (on_def, rest_def, level_def) = k.defaults();
            let on_s = if k == StepKind::Rest {
                check(
                    s.on_s.is_none(),
                    n,
                    k,
                    "on_s",
                    "is not used by rest (use duration_s)",
                )?;
                s.duration_s.ok_or(ScenarioError::Invalid {
                    step: n,
                    kind: k.name(),
                    field: "duration_s",
                    problem: "is required",
                })?
            } else {
                check(
                    s.duration_s.is_none(),
                    n,
                    k,
                    "duration_s",
                    "is only for rest (use on_s)",
                )?;
                s.on_s.unwrap_or(on_def)
            };
            let rest_s = s.rest_s.unwrap_or(rest_def);
            let level = s.level.unwrap_or(level_def);
            let repeat = s.repeat.unwrap_or(1);
            let jitter_s = s.jitter_s.unwrap_or(0.0);
            let jitter_level = s.jitter_level.unwrap_or(0.0);
            let fin = |x: f64| x.is_finite() && x >= 0.0;
            check(
                fin(on_s),
                n,
                k,
                "on_s/duration_s",
                "must be a finite number >= 0",
            )?;
            check(
                k == StepKind::Rest || on_s >= 0.1,
                n,
                k,
                "on_s",
                "must be at least 0.1 s",
            )?;
            check(fin(rest_s), n, k, "rest_s", "must be a finite number >= 0")?;
            check(
                (1..=100_000).contains(&repeat),
                n,
                k,
                "repeat",
                "must be 1..=100000",
            )?;
            check(
                k == StepKind::Rest || (level.is_finite() && level > 0.0 && level <= 1.5),
                n,
                k,
                "level",
                "must be in (0, 1.5]",
            )?;
            check(
                fin(jitter_s) && jitter_s <= 0.5 * on_s,
                n,
                k,
                "jitter_s",
                "must be >= 0 and at most half of on_s",
            )?;
            check(
                fin(jitter_level) && jitter_level < 0.5,
                n,
                k,
                "jitter_level",
                "must be in [0, 0.5)",
            )?;
            if let Some(r) = s.rise_s {
                check(
                    r.is_finite() && r >= 0.02 && r <= on_s,
                    n,
                    k,
                    "rise_s",
                    "must be between 0.02 s and on_s",
                )?;
            }
            steps.push(Step {
                kind: k,
                repeat,
                on_s,
                rest_s,
                rise_s: s.rise_s,
                level,
                jitter_s,
                jitter_level,
            });
        }
        if !(file.artifacts_per_min.is_finite() && (0.0..=60.0).contains(&file.artifacts_per_min)) {
            return Err(ScenarioError::Invalid {
                step: 0,
                kind: "scenario",
                field: "artifacts_per_min",
                problem: "must be in [0, 60]",
            });
        }
        let scenario = Scenario {
            name: file.name,
            description: file.description,
            artifacts_per_min: file.artifacts_per_min,
            steps,
        };
        let d = scenario.nominal_duration_s();
        if d <= 0.0 {
            return Err(ScenarioError::Empty);
        }
        if d > MAX_DURATION_S {
            return Err(ScenarioError::TooLong);
        }
        Ok(scenario)
    }

    /// Reads and validates a scenario file.
    pub fn from_path(path: &std::path::Path) -> Result<Scenario, ScenarioError> {
        let text = std::fs::read_to_string(path)?;
        Scenario::from_toml(&text)
    }

    /// A built-in scenario by name (see [`BUILTIN_NAMES`]).
    ///
    /// ```
    /// use levator_sim::scenario::{Scenario, BUILTIN_NAMES};
    /// for name in BUILTIN_NAMES {
    ///     assert_eq!(Scenario::builtin(name).unwrap().name, name);
    /// }
    /// assert_eq!(Scenario::builtin("glazer").unwrap().nominal_duration_s(), 340.0);
    /// ```
    pub fn builtin(name: &str) -> Result<Scenario, ScenarioError> {
        let text = builtin_text(name).ok_or_else(|| ScenarioError::Unknown(name.to_string()))?;
        Scenario::from_toml(text)
    }

    /// A built-in scenario by name, or else a scenario file at that path.
    pub fn builtin_or_path(name_or_path: &str) -> Result<Scenario, ScenarioError> {
        if builtin_text(name_or_path).is_some() {
            return Scenario::builtin(name_or_path);
        }
        let p = std::path::Path::new(name_or_path);
        if p.extension().is_some_and(|e| e == "toml") || p.exists() {
            return Scenario::from_path(p);
        }
        Err(ScenarioError::Unknown(name_or_path.to_string()))
    }

    /// Duration without jitter (s).
    pub fn nominal_duration_s(&self) -> f64 {
        self.steps
            .iter()
            .map(|s| f64::from(s.repeat) * (s.on_s + s.rest_s))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse_with_documented_durations() {
        let expect = [
            ("glazer", 340.0),
            ("glazer_short", 76.0),
            ("quick_flicks", 100.0),
            ("endurance", 120.0),
            ("reverse_kegel", 120.0),
            ("bearing_down", 150.0),
            ("rest_10min", 600.0),
            ("demo", 195.3),
        ];
        for (name, d) in expect {
            let s = Scenario::builtin(name).unwrap();
            assert!(
                (s.nominal_duration_s() - d).abs() < 1e-9,
                "{name}: {}",
                s.nominal_duration_s()
            );
        }
        let b = Scenario::builtin("bearing_down").unwrap();
        let push = b.steps.iter().find(|s| s.kind == StepKind::Push).unwrap();
        assert_eq!((push.repeat, push.on_s), (3, 15.0));
    }

    #[test]
    fn bad_scenarios_give_typed_errors() {
        let cases = [
            ("name = \"x\"\n[[step]]\nkind = \"rest\"\n", "duration_s"),
            (
                "name = \"x\"\n[[step]]\nkind = \"contraction\"\nlevel = 3.0\n",
                "level",
            ),
            (
                "name = \"x\"\n[[step]]\nkind = \"contraction\"\non_s = -1.0\n",
                "on_s",
            ),
            (
                "name = \"x\"\n[[step]]\nkind = \"push\"\non_s = 2.0\njitter_s = 1.5\n",
                "jitter_s",
            ),
        ];
        for (text, field) in cases {
            match Scenario::from_toml(text) {
                Err(ScenarioError::Invalid { field: f, .. }) => {
                    assert!(f.contains(field), "{f} vs {field}")
                }
                other => panic!("expected invalid {field}, got {other:?}"),
            }
        }
        assert!(matches!(
            Scenario::from_toml("name = \"x\"\n[[step]]\nkind = \"dance\"\n"),
            Err(ScenarioError::Parse(_))
        ));
        assert!(matches!(
            Scenario::from_toml(
                "name = \"x\"\n[[step]]\nkind = \"rest\"\nduration_s = 1.0\ncolour = 2\n"
            ),
            Err(ScenarioError::Parse(_))
        ));
        assert!(matches!(
            Scenario::from_toml("name = \"x\"\n"),
            Err(ScenarioError::Empty)
        ));
        assert!(matches!(
            Scenario::builtin("nope"),
            Err(ScenarioError::Unknown(_))
        ));
    }
}
