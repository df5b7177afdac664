//! Named fail points in the apply and recovery paths, for crash and fault tests.
//!
//! Compiled in only with the `failpoints` cargo feature; otherwise [`hit`] is an empty
//! inline function. With the feature, `CAPM_FAILPOINTS` selects what happens at a site:
//!
//! ```text
//! CAPM_FAILPOINTS="swap-renamed#3=abort"      the 3rd time the site is reached: abort
//! CAPM_FAILPOINTS="stage-written=enospc"      the 1st time: fail with ENOSPC
//! CAPM_FAILPOINTS="swap-before=run:CMD"       run `sh -c CMD`, then go on
//! ```
//!
//! Actions: `abort` (the process dies on the spot, as under `kill -9`), `enospc`, `eacces`,
//! `erofs` (the step fails with that I/O error), `run:CMD`. Several rules are separated by
//! `;`. `CAPM_FAILPOINTS_TRACE=FILE` appends the name of every site reached to FILE, one
//! per line, so a test can enumerate the sites an operation passes through.

/// Reaches the fail point `site`: with the feature and a matching rule, aborts, runs a
/// command, or returns the configured error.
#[cfg(not(feature = "failpoints"))]
#[inline(always)]
pub fn hit(_site: &'static str) -> std::io::Result<()> {
    Ok(())
}

#[cfg(feature = "failpoints")]
pub fn hit(site: &'static str) -> std::io::Result<()> {
    imp::hit(site)
}

#[cfg(feature = "failpoints")]
mod imp {
    use std::collections::HashMap;
    use std::io::Write;
    use std::sync::Mutex;

    static COUNTS: Mutex<Option<HashMap<&'static str, u32>>> = Mutex::new(None);

    pub fn hit(site: &'static str) -> std::io::Result<()> {
        let n = {
            let mut counts = COUNTS.lock().unwrap_or_else(|e| e.into_inner());
            let c = counts
                .get_or_insert_with(HashMap::new)
                .entry(site)
                .or_insert(0);
            *c += 1;
            *c
        };
        if let Some(trace) = std::env::var_os("CAPM_FAILPOINTS_TRACE")
            && let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(trace)
        {
            let _ = writeln!(f, "{site}");
        }
        let Ok(rules) = std::env::var("CAPM_FAILPOINTS") else {
            return Ok(());
        };
        for rule in rules.split(';').map(str::trim).filter(|r| !r.is_empty()) {
            let Some((at, action)) = rule.split_once('=') else {
                continue;
            };
            let (name, nth) = match at.split_once('#') {
                Some((name, nth)) => (name, nth.parse::<u32>().unwrap_or(1)),
                None => (at, 1),
            };
            if name != site || nth != n {
                continue;
            }
            return act(action);
        }
        Ok(())
    }

    fn act(action: &str) -> std::io::Result<()> {
        const ENOSPC: i32 = 28;
        const EACCES: i32 = 13;
        const EROFS: i32 = 30;
        match action {
            "abort" => std::process::abort(),
            "enospc" => Err(std::io::Error::from_raw_os_error(ENOSPC)),
            "eacces" => Err(std::io::Error::from_raw_os_error(EACCES)),
            "erofs" => Err(std::io::Error::from_raw_os_error(EROFS)),
            other => {
                if let Some(cmd) = other.strip_prefix("run:") {
                    let _ = std::process::Command::new("sh").arg("-c").arg(cmd).status();
                }
                Ok(())
            }
        }
    }
}
