//! Which values of a runtime's option variable (`NODE_OPTIONS`, `JAVA_TOOL_OPTIONS`,
//! `MAVEN_OPTS`…) are harmless (ENV-002): only options that size memory, choose a garbage
//! collector or tune logging. Anything else — an unknown option, a reference — can load
//! code, so the variable is judged a hijack (fail closed).

/// The runtime whose options a variable holds, when capm knows its harmless options.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Runtime {
    Node,
    Java,
}

/// The runtime a variable passes options to: `NODE_OPTIONS`, `npm_config_node_options`;
/// `JAVA_TOOL_OPTIONS`, `_JAVA_OPTIONS`, `JDK_JAVA_OPTIONS`, `JAVA_OPTS`, and the JVM
/// build tools' `MAVEN_OPTS`, `GRADLE_OPTS`, `SBT_OPTS`, `ANT_OPTS`.
pub fn runtime_of(upper: &str) -> Option<Runtime> {
    if upper == "NODE_OPTIONS" || upper.ends_with("_NODE_OPTIONS") {
        return Some(Runtime::Node);
    }
    let java = matches!(
        upper,
        "JAVA_TOOL_OPTIONS" | "_JAVA_OPTIONS" | "JDK_JAVA_OPTIONS" | "JAVA_OPTS" | "JAVA_OPTIONS"
    ) || matches!(
        upper,
        "MAVEN_OPTS" | "GRADLE_OPTS" | "SBT_OPTS" | "ANT_OPTS"
    );
    java.then_some(Runtime::Java)
}

/// Whether every option in a literal value is one the runtime only tunes itself with.
pub fn harmless(runtime: Runtime, value: &str) -> bool {
    value.split_whitespace().all(|option| match runtime {
        Runtime::Node => node_option(option),
        Runtime::Java => java_option(option),
    })
}

/// A size or count: `4096`, `512m`, `1g`, `75.0`.
fn size(v: &str) -> bool {
    let digits = v.trim_end_matches(['k', 'K', 'm', 'M', 'g', 'G']);
    !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
}

/// Node options that size memory or tune warnings. `--use-openssl-ca` is not one: it
/// changes which certificate authorities the server trusts.
fn node_option(option: &str) -> bool {
    let (flag, value) = option.split_once('=').unwrap_or((option, ""));
    let flag = flag.replace('_', "-");
    match flag.as_str() {
        "--max-old-space-size"
        | "--max-semi-space-size"
        | "--stack-size"
        | "--max-http-header-size" => size(value),
        "--enable-source-maps" | "--no-warnings" | "--no-deprecation" | "--trace-warnings" => {
            value.is_empty()
        }
        "--dns-result-order" => matches!(value, "ipv4first" | "ipv6first" | "verbatim"),
        "--unhandled-rejections" => matches!(
            value,
            "strict" | "warn" | "none" | "throw" | "warn-with-error-code"
        ),
        _ => false,
    }
}

/// JVM options that size the heap and stack, choose a collector, or set the encoding,
/// time zone or IP stack. `-XX:OnOutOfMemoryError=` and `-XX:OnError=` run a command.
fn java_option(option: &str) -> bool {
    if let Some(v) = ["-Xmx", "-Xms", "-Xss"]
        .iter()
        .find_map(|p| option.strip_prefix(p))
    {
        return size(v);
    }
    if let Some(xx) = option.strip_prefix("-XX:") {
        return java_xx(xx);
    }
    if let Some((key, value)) = option.strip_prefix("-D").and_then(|d| d.split_once('=')) {
        let plain = value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '/' | '+' | '.'));
        return plain
            && matches!(
                key,
                "file.encoding" | "user.timezone" | "java.net.preferIPv4Stack"
            );
    }
    false
}

/// `-XX:` options: the RAM percentages, and switching a collector on or off.
fn java_xx(xx: &str) -> bool {
    if let Some((key, value)) = xx.split_once('=') {
        return matches!(
            key,
            "MaxRAMPercentage" | "InitialRAMPercentage" | "MinRAMPercentage"
        ) && size(value);
    }
    let Some(name) = xx.strip_prefix(['+', '-']) else {
        return false;
    };
    let gc = name.strip_prefix("Use").and_then(|n| n.strip_suffix("GC"));
    gc.is_some_and(|g| !g.is_empty() && g.chars().all(|c| c.is_ascii_alphanumeric()))
        || name == "ExitOnOutOfMemoryError"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_memory_and_warning_options_are_harmless() {
        let node = Runtime::Node;
        assert!(harmless(node, "--max-old-space-size=4096"));
        assert!(harmless(node, "--enable-source-maps --no-warnings"));
        assert!(harmless(node, "--dns-result-order=ipv4first"));
        assert!(harmless(node, "--max_old_space_size=2048"));
    }

    #[test]
    fn node_options_that_load_or_trust_are_not() {
        let node = Runtime::Node;
        assert!(!harmless(node, "--require ./hook.js"));
        assert!(!harmless(node, "--max-old-space-size=4096 --import=x.mjs"));
        assert!(!harmless(node, "--use-openssl-ca"));
        assert!(!harmless(node, "--max-old-space-size=$(id)"));
        assert!(!harmless(node, "--dns-result-order=ipv4first,x"));
    }

    #[test]
    fn java_sizes_collectors_and_properties_are_harmless() {
        let java = Runtime::Java;
        assert!(harmless(java, "-Xmx512m"));
        assert!(harmless(java, "-Xms256m -Xmx1g -Xss1m -XX:+UseG1GC"));
        assert!(harmless(
            java,
            "-XX:MaxRAMPercentage=75.0 -Dfile.encoding=UTF-8"
        ));
        assert!(harmless(java, "-Duser.timezone=America/New_York"));
    }

    #[test]
    fn java_options_that_run_a_command_are_not() {
        let java = Runtime::Java;
        assert!(!harmless(java, "-XX:OnOutOfMemoryError=sh x"));
        assert!(!harmless(java, "-XX:OnError=id"));
        assert!(!harmless(java, "-Xmx1g -javaagent:a.jar"));
        assert!(!harmless(java, "-Dsome.other=1"));
        assert!(!harmless(java, "-Xmxlots"));
    }

    #[test]
    fn variables_map_to_their_runtime() {
        assert_eq!(runtime_of("NODE_OPTIONS"), Some(Runtime::Node));
        assert_eq!(runtime_of("NPM_CONFIG_NODE_OPTIONS"), Some(Runtime::Node));
        assert_eq!(runtime_of("MAVEN_OPTS"), Some(Runtime::Java));
        assert_eq!(runtime_of("DENO_OPTS"), None);
    }
}
