//! The terminal: the environment variables capm reads (all read here, once), whether to use
//! colour, and the two streams. stdout carries data; stderr carries messages for people.

use std::io::{IsTerminal, Write};

use anstream::AutoStream;
use anstyle::{AnsiColor, Style};

use super::{CliError, ColorArg};

/// The environment variables that change capm's behaviour.
#[derive(Clone, Debug, Default)]
pub struct Env {
    /// `NO_COLOR` set to anything non-empty.
    pub no_color: bool,
    /// `CLICOLOR_FORCE` set to anything but `0`.
    pub force_color: bool,
    /// Whether stderr is a terminal.
    pub stderr_tty: bool,
    /// Whether stdout is a terminal.
    pub stdout_tty: bool,
    /// Whether stdin is a terminal.
    pub stdin_tty: bool,
    /// The names of the environment variables that are set (never their values), to tell
    /// the user which variables a server needs that are missing.
    pub set_vars: std::collections::BTreeSet<String>,
    /// `CAPM_LOCK_TIMEOUT`: how long to wait for a lock held by another capm (seconds,
    /// default 60).
    pub lock_timeout: std::time::Duration,
    /// `CAPM_LOG`: a tracing filter (`capm=debug`, `capm::graph=trace`, …) for diagnostic
    /// logging on stderr.
    pub log: Option<String>,
    /// Variables set to a value capm cannot use, with the reason: each is a usage error.
    pub invalid: Vec<String>,
    /// OpenCode's global config directory: `$XDG_CONFIG_HOME/opencode`, by default
    /// `~/.config/opencode`.
    pub opencode_config: std::path::PathBuf,
    /// `$HOME` and `$CODEX_HOME`, where other clients keep their user configs.
    pub homes: crate::target::Homes,
    /// The cache of remote sources: `CAPM_CACHE_DIR`, else `$XDG_CACHE_HOME/capm`, else
    /// `~/.cache/capm`.
    pub cache_dir: std::path::PathBuf,
    /// `CAPM_HTTP_TIMEOUT` (seconds), `CAPM_HTTP_RETRIES` and `SSL_CERT_FILE`.
    pub http: crate::remote::HttpSettings,
}

impl Env {
    pub fn from_process() -> Self {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        let mut env = Env {
            no_color: var("NO_COLOR").is_some(),
            force_color: var("CLICOLOR_FORCE").is_some_and(|v| v != "0"),
            stderr_tty: std::io::stderr().is_terminal(),
            stdout_tty: std::io::stdout().is_terminal(),
            stdin_tty: std::io::stdin().is_terminal(),
            set_vars: std::env::vars_os()
                .filter(|(_, v)| !v.is_empty())
                .filter_map(|(k, _)| k.into_string().ok())
                .collect(),
            opencode_config: var("XDG_CONFIG_HOME")
                .map(std::path::PathBuf::from)
                .or_else(|| var("HOME").map(|h| std::path::PathBuf::from(h).join(".config")))
                .unwrap_or_else(|| std::path::PathBuf::from(".config"))
                .join("opencode"),
            homes: crate::target::Homes {
                home: var("HOME").map(std::path::PathBuf::from),
                codex: var("CODEX_HOME")
                    .map(std::path::PathBuf::from)
                    .or_else(|| var("HOME").map(|h| std::path::PathBuf::from(h).join(".codex"))),
            },
            cache_dir: var("CAPM_CACHE_DIR")
                .map(std::path::PathBuf::from)
                .or_else(|| var("XDG_CACHE_HOME").map(|d| std::path::PathBuf::from(d).join("capm")))
                .or_else(|| var("HOME").map(|h| std::path::PathBuf::from(h).join(".cache/capm")))
                .unwrap_or_else(|| std::path::PathBuf::from(".cache/capm")),
            http: crate::remote::HttpSettings {
                ca_file: var("SSL_CERT_FILE").map(std::path::PathBuf::from),
                ..crate::remote::HttpSettings::default()
            },
            lock_timeout: std::time::Duration::from_secs(60),
            log: var("CAPM_LOG").map(|v| v.to_string_lossy().into_owned()),
            invalid: Vec::new(),
        };
        let var = |k: &str| var(k).map(|v| v.to_string_lossy().into_owned());
        let lock = env.parse(&var, "CAPM_LOCK_TIMEOUT", "a number of seconds", seconds);
        env.lock_timeout = lock.unwrap_or(env.lock_timeout);
        let timeout = env.parse(
            &var,
            "CAPM_HTTP_TIMEOUT",
            "a number of seconds above 0",
            |v| seconds(v).filter(|d| !d.is_zero()),
        );
        env.http.timeout = timeout.unwrap_or(env.http.timeout);
        let retries = env.parse(&var, "CAPM_HTTP_RETRIES", "a number from 0 to 10", |v| {
            v.trim().parse::<u32>().ok().filter(|n| *n <= 10)
        });
        env.http.retries = retries.unwrap_or(env.http.retries);
        env
    }

    /// The value of variable `name` through `parse`; one it refuses is recorded in
    /// `invalid` as "`NAME=value` is not WHAT".
    fn parse<T>(
        &mut self,
        var: &dyn Fn(&str) -> Option<String>,
        name: &str,
        what: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Option<T> {
        let value = var(name)?;
        let parsed = parse(&value);
        if parsed.is_none() {
            self.invalid.push(format!("{name}=`{value}` is not {what}"));
        }
        parsed
    }

    /// How capm reaches remote sources: the cache, the HTTP settings, and `offline`.
    pub fn net(&self, offline: bool) -> crate::remote::Net {
        crate::remote::Net {
            cache: crate::remote::Cache::new(self.cache_dir.clone())
                .once_per_operation()
                .held_while_used(),
            offline,
            locked: false,
            http: self.http.clone(),
        }
    }
}

/// A non-negative number of seconds (`30`, `0.5`) as a duration.
fn seconds(text: &str) -> Option<std::time::Duration> {
    let n: f64 = text.trim().parse().ok()?;
    std::time::Duration::try_from_secs_f64(n).ok()
}

/// Output streams plus the decisions about how to write to them.
pub struct Term {
    out: AutoStream<std::io::Stdout>,
    err: AutoStream<std::io::Stderr>,
    /// Whether stderr gets colour.
    pub color: bool,
    pub quiet: bool,
    pub verbose: bool,
    /// The environment the decisions above came from.
    pub env: Env,
    /// Set once a JSON document went to stdout: a command prints at most one.
    pub printed_json: bool,
}

impl Term {
    pub fn new(env: &Env, color: ColorArg, quiet: bool, verbose: bool) -> Self {
        let decide = |tty: bool| match color {
            ColorArg::Always => true,
            ColorArg::Never => false,
            ColorArg::Auto => env.force_color || (tty && !env.no_color),
        };
        let choice = |on: bool| {
            if on {
                anstream::ColorChoice::Always
            } else {
                anstream::ColorChoice::Never
            }
        };
        let err_color = decide(env.stderr_tty);
        Term {
            out: AutoStream::new(std::io::stdout(), choice(decide(env.stdout_tty))),
            err: AutoStream::new(std::io::stderr(), choice(err_color)),
            color: err_color,
            quiet,
            verbose,
            env: env.clone(),
            printed_json: false,
        }
    }

    pub fn out(&mut self) -> &mut impl Write {
        &mut self.out
    }

    pub fn err(&mut self) -> &mut impl Write {
        &mut self.err
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()?;
        self.err.flush()
    }

    /// A right-aligned green status word and a message, as cargo prints progress.
    pub fn status(&mut self, word: &str, message: impl std::fmt::Display) -> std::io::Result<()> {
        if self.quiet {
            return Ok(());
        }
        let style = Style::new().bold().fg_color(Some(AnsiColor::Green.into()));
        writeln!(self.err, "{style}{word:>12}{style:#} {message}")
    }

    /// `warning: message` on stderr.
    pub fn warn(&mut self, message: impl std::fmt::Display) -> std::io::Result<()> {
        if self.quiet {
            return Ok(());
        }
        let style = Style::new().bold().fg_color(Some(AnsiColor::Yellow.into()));
        writeln!(self.err, "{style}warning{style:#}: {message}")
    }

    /// `error: message` and an optional `help:` line on stderr.
    pub fn error(&mut self, e: &CliError) {
        let style = Style::new().bold().fg_color(Some(AnsiColor::Red.into()));
        match e {
            // A refusal (exit 1) names its code, and so does a remote source's failure.
            _ if e.exit() == 1 || matches!(e, CliError::Remote(_)) => {
                let code = e.code();
                let _ = writeln!(self.err, "{style}error[{code}]{style:#}: {e}");
            }
            _ => {
                let _ = writeln!(self.err, "{style}error{style:#}: {e}");
            }
        }
        for d in e.details() {
            let _ = writeln!(self.err, "  {d}");
        }
        let help = e.help();
        if let Some(help) = help {
            let h = Style::new().bold().fg_color(Some(AnsiColor::Cyan.into()));
            let _ = writeln!(self.err, "{h}help{h:#}: {help}");
        }
    }
}
