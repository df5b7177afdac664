//! The registry of diagnostic codes: every code capm can report, its default severity and
//! the text `capm explain CODE` prints (security rules add theirs in `security::rules`). A code missing here is a bug, and a test says so.

use super::Severity;

/// What `capm explain` knows about one code.
#[derive(Debug)]
pub struct CodeInfo {
    pub code: &'static str,
    pub severity: Severity,
    /// One line: what the code reports.
    pub summary: &'static str,
    /// Why it matters.
    pub why: &'static str,
    /// How to fix it.
    pub fix: &'static str,
    /// For security rules: the rule's severity and examples.
    pub rule: Option<RuleInfo>,
}

/// What a security rule adds to a code.
#[derive(Debug)]
pub struct RuleInfo {
    /// `None` for design rules that have no severity of their own.
    pub level: Option<super::Level>,
    /// A manifest fragment that triggers the rule.
    pub bad: &'static str,
    /// A fragment that does the same job and passes.
    pub good: &'static str,
}

/// Looks a validation code up, case-insensitively. Security rules are registered above this
/// layer: `security::rules::lookup` knows every code.
pub fn lookup(code: &str) -> Option<&'static CodeInfo> {
    CODES.iter().find(|c| c.code.eq_ignore_ascii_case(code))
}

macro_rules! codes {
    ($( $code:literal $sev:ident { summary: $summary:literal, why: $why:literal, fix: $fix:literal $(,)? } )*) => {
        /// Every code, in the order `capm explain --list` prints them.
        pub static CODES: &[CodeInfo] = &[
            $( CodeInfo { code: $code, severity: Severity::$sev, summary: $summary, why: $why, fix: $fix, rule: None }, )*
        ];
    };
}

codes! {
    "toml-syntax" Error {
        summary: "The file is not valid TOML.",
        why: "capm cannot read anything from a file it cannot parse, so it refuses to guess.",
        fix: "Correct the syntax at the line and column shown. Common causes: an unquoted string, a missing closing bracket or quote, or a key defined twice.",
    }
    "invalid-utf8" Error {
        summary: "The file is not valid UTF-8 text.",
        why: "Manifests, SKILL.md files and agent markdown are read as UTF-8; other encodings would be misread by capm and by OpenCode.",
        fix: "Re-save the file as UTF-8.",
    }
    "manifest-too-large" Error {
        summary: "A manifest is larger than 1 MiB.",
        why: "Real manifests are a few kilobytes; a huge one is a mistake or an attempt to exhaust the tools that read it.",
        fix: "Move large content into the files the bundle ships (skills, agents), and keep bundle.toml to metadata.",
    }
    "missing-manifest" Error {
        summary: "A directory that should be a bundle has no bundle.toml.",
        why: "bundle.toml is what makes a directory a bundle: without it capm knows nothing about what it provides.",
        fix: "Point at the directory holding bundle.toml, or create one with `capm new NAME`.",
    }
    "invalid-json" Error {
        summary: "A JSON file of a bundle of another format (plugin.json, .mcp.json, hooks.json, marketplace.json, server.json) does not parse.",
        why: "capm reads nothing from a file it cannot parse, so the bundle cannot be translated.",
        fix: "Correct the JSON at the line and column shown.",
    }
    "skill-not-found" Error {
        summary: "`skills` (or `--skill`) names a skill the repository does not hold.",
        why: "capm installs exactly the skills asked for; a misspelt name would otherwise install nothing, or something else.",
        fix: "Use one of the names the message lists (the `name` in each SKILL.md), or drop `skills` to take every skill.",
    }
    "server-json-invalid" Error {
        summary: "An MCP Registry server.json that capm cannot read: no `name`, an entry without its required fields, or the first (2025-07-09) schema's snake_case keys.",
        why: "capm reads the server's name, packages and remotes from the fields the current schema defines; a document of another shape would be misread.",
        fix: "Write server.json in the current schema (camelCase keys, `name` such as `io.github.owner/server`), as `mcp-publisher validate` checks it.",
    }
    "server-json-input-missing" Error {
        summary: "A required argument of the chosen server.json package has neither a `value` nor a `default`.",
        why: "Registry clients ask the user for such a value; capm installs without asking, and a server started without a required argument fails.",
        fix: "Give the argument a `value` or `default` in server.json, or write a native bundle.toml that sets it.",
    }
    "format-not-carried" Warning {
        summary: "A field of a bundle of another format that capm does not carry into OpenCode (a Claude model alias, an agent colour name, a `${VAR:-default}` default, a tool without an OpenCode equivalent).",
        why: "The bundle is installed without it, so it may behave a little differently than in the client it was written for.",
        fix: "Nothing, if the difference is acceptable; otherwise set the value in OpenCode's own config, or write a native bundle.toml.",
    }
    "invalid-type" Error {
        summary: "A value has the wrong TOML type (for example a number where a string is expected).",
        why: "capm reads each field as one type; a different type would be silently misread.",
        fix: "Write the value as the type the message names, e.g. `version = \"1.0.0\"` rather than `version = 1`.",
    }
    "missing-field" Error {
        summary: "A required field or table is missing.",
        why: "The field is needed to install or describe the bundle; capm never invents it.",
        fix: "Add the field named in the message. `capm new NAME` shows a complete manifest.",
    }
    "unknown-key" Warning {
        summary: "A key that capm does not know: a warning in bundle.toml, an error in capm.toml.",
        why: "An unknown key is usually a typo of a real one, whose setting is then silently ignored. capm.toml is the project's own short file, where a typo such as `[bundle]` for `[bundles]` would make capm uninstall everything, so there every command that reads it refuses it.",
        fix: "Correct the spelling (the help line suggests the closest known key), or remove the key.",
    }
    "invalid-length" Error {
        summary: "A text value is empty or longer than its limit.",
        why: "Descriptions and reasons are shown to people reviewing what they install; they must exist and be readable.",
        fix: "Write a value within the limit the message gives (descriptions 1..=1024 characters, permission reasons 1..=1000).",
    }
    "invalid-name" Error {
        summary: "A bundle or resource name does not follow the naming rule.",
        why: "Names become directory names, config keys and file names in OpenCode; the rule `^[a-z0-9]+(-[a-z0-9]+)*$` (1 to 64 characters) keeps them portable and unambiguous.",
        fix: "Use lower-case letters and digits separated by single hyphens, e.g. `code-review`.",
    }
    "invalid-semver" Error {
        summary: "A version is not a semantic version.",
        why: "Resolution compares versions by semver rules; a version capm cannot parse cannot be ordered or required.",
        fix: "Write MAJOR.MINOR.PATCH, optionally with a pre-release, e.g. `1.2.0` or `2.0.0-beta.1`.",
    }
    "invalid-version-req" Error {
        summary: "A version requirement is not a valid semver requirement.",
        why: "Requirements decide which versions may be installed; an unparseable one cannot be honoured.",
        fix: "Use a semver requirement such as `^1.2`, `~0.3.1`, `>=1.0, <2.0` or `=1.4.2`.",
    }
    "unknown-product-mode" Error {
        summary: "A product mode that does not exist.",
        why: "Product modes decide where a resource may run; a misspelled mode would leave the intended one unsupported.",
        fix: "Use one of desktop-local, desktop-cloud, cloud-web, cloud-channel-gateway, standalone-gateway, paired-desktop, headless-host.",
    }
    "invalid-tier" Error {
        summary: "A tier that is not supported, experimental, blocked or unsupported.",
        why: "The tier classifies how far a bundle or plugin is trusted in a mode; anything else cannot be classified.",
        fix: "Use one of `supported`, `experimental`, `blocked`, `unsupported`.",
    }
    "no-supported-mode" Warning {
        summary: "The bundle declares no product mode as supported or experimental.",
        why: "A mode missing from `[compatibility.product-modes]` is unsupported, so this bundle cannot be installed anywhere.",
        fix: "Add `[compatibility.product-modes]` with at least `desktop-local = \"supported\"`.",
    }
    "invalid-license" Warning {
        summary: "The license is not a valid SPDX expression.",
        why: "Users and tools read the license field to decide whether they may use a bundle.",
        fix: "Use an SPDX identifier or expression such as `MIT`, `Apache-2.0` or `MIT OR Apache-2.0`.",
    }
    "invalid-url" Error {
        summary: "A URL that cannot be parsed.",
        why: "capm checks every URL before anything can connect to it; one it cannot parse cannot be checked.",
        fix: "Write an absolute URL such as `https://mcp.example.com/mcp`.",
    }
    "absolute-path" Error {
        summary: "A path in the manifest is absolute.",
        why: "A bundle must be self-contained: an absolute path points at the author's machine, not into the bundle.",
        fix: "Write the path relative to the directory holding bundle.toml, e.g. `skills/code-review`.",
    }
    "path-escapes-bundle" Error {
        summary: "A path leaves the bundle directory (it uses `..`).",
        why: "Installing would copy files from outside the bundle: from the author's machine, or anywhere on the user's.",
        fix: "Move the files into the bundle and point at them with a relative path without `..`.",
    }
    "path-not-found" Error {
        summary: "A path in the manifest names nothing in the bundle.",
        why: "The resource could not be installed: the file or directory it ships is missing.",
        fix: "Create the file or directory, or correct the path (paths are relative to bundle.toml and case-sensitive).",
    }
    "wrong-path-kind" Error {
        summary: "A path names a file where a directory is expected, or the other way round.",
        why: "Skills are directories holding SKILL.md; agents, commands and plugins are single files.",
        fix: "Point skills at their directory and agents, commands and path plugins at their file.",
    }
    "symlink-in-bundle" Error {
        summary: "The bundle contains a symbolic link.",
        why: "Bundles are copied byte for byte and digested; a symlink could point anywhere on the installing machine, including outside the bundle.",
        fix: "Replace the link with a copy of the file or directory it points to.",
    }
    "skill-too-large" Error {
        summary: "A skill directory holds more than 1,000 files or 10 MiB.",
        why: "Skills are copied into every project that installs them and read by the agent; a tree that large is a mistake (a vendored dependency, a build output).",
        fix: "Remove build outputs and large assets from the skill directory.",
    }
    "bundle-too-large" Error {
        summary: "The bundle directory holds more than 10,000 files or 100 MiB.",
        why: "capm reads and digests the whole bundle; a tree that large is almost certainly not meant to be shipped.",
        fix: "Remove build outputs, dependencies and large assets from the bundle directory.",
    }
    "missing-skill-md" Error {
        summary: "A skill directory has no SKILL.md.",
        why: "OpenCode discovers a skill by its SKILL.md; without it the skill is invisible.",
        fix: "Add SKILL.md to the skill directory, starting with YAML front matter holding `name` and `description`.",
    }
    "invalid-front-matter" Error {
        summary: "SKILL.md does not start with valid YAML front matter holding `name` and `description`, or an agent's or command's front matter is not YAML OpenCode can read.",
        why: "OpenCode reads the skill's name and description from its front matter and ignores a skill without them. Agent or command front matter it cannot parse (or that is never closed) it silently ignores, reading it as part of the prompt.",
        fix: "Start SKILL.md with `---`, then `name: NAME` and `description: …`, then `---`. In agents and commands, fix the YAML between the `---` lines (a key given twice, an unclosed bracket or quote).",
    }
    "front-matter-value" Error {
        summary: "An agent's or command's front matter has a value OpenCode's schema refuses (a `mode`, `color`, `temperature`, `steps`, `permission`… of the wrong type or outside its values), or a `name` other than the file's.",
        why: "OpenCode 1.18.33 checks agent and command files against its config schema when it starts: one refused value makes every OpenCode command fail with \"Configuration is invalid\". A front-matter `name` renames the agent or command.",
        fix: "Write the value the message names (e.g. `mode: subagent`, `color: \"#FF5733\"`, `steps: 5`, `hidden: true`), and leave `name` out.",
    }
    "skill-name-mismatch" Error {
        summary: "A skill's front-matter name differs from its directory or resource name.",
        why: "OpenCode requires a skill's name to equal its directory name, and capm installs the skill under its resource name.",
        fix: "Use one name for the resource key, the directory and the `name` in SKILL.md.",
    }
    "front-matter-key" Warning {
        summary: "An agent's or command's front matter has a key OpenCode does not know, or one the body replaces (`prompt`, `template`).",
        why: "An unknown key is usually a typo whose setting is then lost: OpenCode passes an agent's to the model as a provider option and drops a command's.",
        fix: "Correct the spelling (the help line suggests the closest known key) or remove the key; put the prompt or template in the body.",
    }
    "not-markdown" Error {
        summary: "An agent or command file is not a `.md` file.",
        why: "OpenCode loads agents and commands from markdown files only.",
        fix: "Rename the file to end in `.md` and update the path.",
    }
    "invalid-plugin-source" Error {
        summary: "A plugin has neither or both of `npm` and `path`, a plugin file is not .ts or .js, or a plugin directory has not exactly one of `index.ts` and `index.js`.",
        why: "A plugin comes from exactly one place: an npm package, a file in the bundle, or a directory loaded through its one entry.",
        fix: "Keep exactly one: `npm = \"pkg@1.2.3\"`, `path = \"plugins/name.ts\"`, or `path = \"plugins/name\"` with one `index.ts` or `index.js` in it.",
    }
    "plugin-local-import" Error {
        summary: "A plugin file imports a file of its own, or a plugin directory imports a file it does not hold.",
        why: "capm installs a plugin file alone and a plugin directory with exactly its files; the import would not resolve there, and OpenCode skips a plugin that fails to load without a word.",
        fix: "Make the plugin a directory holding `index.ts` and every file it imports (`path = \"plugins/name\"`), put the code in the one file, or publish the plugin and use `npm = \"package@1.2.3\"`.",
    }
    "invalid-mcp-launch" Error {
        summary: "An MCP server has neither or both of `command` (stdio) and `url` (remote).",
        why: "A server is either launched locally or reached over the network; capm cannot tell which one is meant.",
        fix: "Keep `command` and `args` for a local server, or `url` (with `transport`) for a remote one.",
    }
    "invalid-transport" Error {
        summary: "A remote MCP transport other than `streamable-http` or `sse`.",
        why: "OpenCode speaks these two remote transports only.",
        fix: "Use `transport = \"streamable-http\"` (the default) or `\"sse\"`.",
    }
    "invalid-env-value" Error {
        summary: "An env or header value is neither a string nor one `from-env` or `template` reference.",
        why: "Values are either plain text or a reference resolved on the user's machine; capm never stores secret values.",
        fix: "Write `{ from-env = \"VAR\", secret = true }` or `{ template = \"Bearer {env:VAR}\", secret = true }`, or a plain string for non-secret settings.",
    }
    "invalid-env-name" Error {
        summary: "An environment variable or header name with characters that are not allowed.",
        why: "Environment names must be `[A-Za-z_][A-Za-z0-9_]*` and header names HTTP tokens, or the launch fails or is misread.",
        fix: "Rename the variable or header using letters, digits and underscores (headers: also hyphens).",
    }
    "invalid-template" Error {
        summary: "A `template` has no `{env:VAR}` reference, or a malformed one.",
        why: "A template exists to build a value from the user's environment; one without a valid reference is a literal in disguise.",
        fix: "Reference the variable as `{env:NAME}`, e.g. `template = \"Bearer {env:API_KEY}\"`.",
    }
    "invalid-permission-kind" Error {
        summary: "A permission kind capm does not know.",
        why: "The kind decides how a permission is reviewed; an unknown kind could not be reviewed at all.",
        fix: "Use one of provider, filesystem, mcp, shell, workflow, plugin, network, credential.",
    }
    "invalid-permission-id" Error {
        summary: "A permission id that does not match `^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`.",
        why: "Permission ids are recorded when a user accepts them; they must be stable and printable.",
        fix: "Use letters, digits and `._:-`, starting with a letter or digit, at most 128 characters.",
    }
    "duplicate-permission" Error {
        summary: "Two permissions with the same kind and id.",
        why: "A permission is accepted once by its kind and id; two entries with different reasons would be ambiguous.",
        fix: "Merge the entries into one.",
    }
    "duplicate-resource" Error {
        summary: "Two resources of the bundle would install the same thing.",
        why: "Both would land in one place in OpenCode (the same npm plugin, the same file); the second would overwrite the first.",
        fix: "Remove one of the two resources, or point them at different sources.",
    }
    "invalid-requires" Error {
        summary: "A `requires` entry is not `KIND:NAME` with a known kind.",
        why: "capm resolves requirements by kind and name; a malformed entry cannot be resolved.",
        fix: "Write entries like `mcp:github` or `skill:code-review` (kinds: mcp, skill, plugin, agent, command).",
    }
    "unresolved-requires" Warning {
        summary: "A required resource is provided neither by this bundle nor by a dependency lint can see.",
        why: "Requirements resolve across the project's whole graph: another bundle of the project may provide the resource, so lint can only warn; resolution refuses the project if nothing does.",
        fix: "Declare the bundle that provides the resource under `[dependencies]` and lint them together, or provide the resource in this bundle.",
    }
    "missing-required-resource" Error {
        summary: "A required resource is provided by no bundle in the project's resolved graph.",
        why: "The resource that needs it would be installed broken.",
        fix: "Provide the resource, add the dependency that provides it, or remove it from `requires`.",
    }
    "unknown-resource" Error {
        summary: "A reference to a resource that does not exist: one a bundle does not define (in `[uninstall] preserves`), or one `--skip`, `capm keep` or `capm restore` names that no bundle of the project provides.",
        why: "The reference would have no effect, which hides a typo: a conflict meant to be settled would stay, an edit meant to be kept would not be.",
        fix: "Name the resource as `KIND:NAME`, as the bundle defines it or as `capm list` shows it; the error names the closest one.",
    }
    "empty-bundle" Warning {
        summary: "The bundle provides no resources and has no dependencies.",
        why: "Installing it would do nothing.",
        fix: "Add a resource (`[mcp.NAME]`, `[skills.NAME]`, …) or a dependency.",
    }
    "unsupported-target" Error {
        summary: "A `target` or an element of `targets` that is not a client capm installs into.",
        why: "Each client reads its own files in its own shapes; capm knows opencode, claude-code, gemini, codex, copilot, qwen, cursor and vscode.",
        fix: "Use one of those names (`targets = [\"opencode\", \"claude-code\"]`), or omit the key for OpenCode alone.",
    }
    "invalid-targets" Error {
        summary: "A `[project] targets` list that is empty, names a client twice, or sits beside `target`.",
        why: "`targets` lists every client resources are installed into, each once; `target` is its one-client form, and both at once would say two things.",
        fix: "Keep one of the two keys and name each client once: `targets = [\"opencode\", \"claude-code\"]`.",
    }
    "invalid-scope" Error {
        summary: "A `scope` other than `project` or `global`.",
        why: "The scope decides which directory capm writes to.",
        fix: "Use `scope = \"project\"` (the default) or `scope = \"global\"`.",
    }
    "invalid-bundle-source" Error {
        summary: "A `[bundles]` entry that names no version, path or registry, or a combination capm cannot honour.",
        why: "capm needs to know where a bundle comes from and which versions are acceptable.",
        fix: "Write `name = \"^1.2\"`, `name = { path = \"../dir\" }` or `name = { version = \"^2\", registry = \"team\" }`.",
    }
    "unknown-registry" Error {
        summary: "A bundle names a registry that `[registries]` does not declare.",
        why: "capm would not know where to fetch the bundle from.",
        fix: "Declare the registry under `[registries]`, e.g. `team = { path = \"/srv/capm-registry\" }`.",
    }
    "resolution-conflict" Error {
        summary: "No version of a bundle satisfies every requirement on it.",
        why: "capm installs one version of each bundle; when the project and its dependencies ask for incompatible versions, no installation can please them all.",
        fix: "Read the chains in the message: loosen one requirement, update the bundle that asks for an old version, or drop one of the bundles.",
    }
    "bundle-not-found" Error {
        summary: "A bundle named by the project or a dependency exists in no source.",
        why: "capm only installs bundles from the catalog, a declared registry or a path; it never guesses another name.",
        fix: "Check the spelling (the help line suggests the closest name a source has; `capm search` lists every bundle), declare the registry that publishes it under `[registries]`, or point at it with `{ path = \"…\" }`.",
    }
    "dependency-cycle" Error {
        summary: "Bundles depend on each other in a cycle.",
        why: "capm installs dependencies before the bundles that need them, and removes them after; a cycle has no such order.",
        fix: "Remove one dependency on the cycle the message prints, for instance by merging the bundles.",
    }
    "git-not-found" Error {
        summary: "A bundle comes from a git repository, and the `git` command is not on PATH. Exit 2.",
        why: "capm fetches git sources with the `git` command, so that the user's credential helpers, SSH agent and `insteadOf` rules apply.",
        fix: "Install git (`apt install git`, `brew install git`, or from git-scm.com) and make sure `git --version` works in the same shell.",
    }
    "git-error" Error {
        summary: "A git command capm ran for a git source failed; the message shows the command and what git printed. Exit 2.",
        why: "The repository could not be listed or fetched: a wrong URL, missing credentials (capm never prompts), an unreachable host, or a server that refused the request.",
        fix: "Run `git ls-remote URL` yourself to see the problem; set up a credential helper or SSH key for a private repository, then run capm again.",
    }
    "git-ref-not-found" Error {
        summary: "The tag, branch or commit a git source names is not in the repository, or no tag matches its version requirement.",
        why: "capm installs exactly what the source names; another ref would be a different bundle.",
        fix: "Check the name with `git ls-remote URL`, then fix `tag`, `branch`, `rev` or `version` in capm.toml.",
    }
    "offline-missing" Error {
        summary: "With --offline or --frozen, something a remote source needs is not in the cache; the message lists each item. Exit 2.",
        why: "An offline run fetches nothing: index files, archives, git commits and OCI blobs come from the cache only, and capm does not install something it cannot verify.",
        fix: "Run once online (without --offline or --frozen) to fill the cache, then offline runs install from it.",
    }
    "http-error" Error {
        summary: "A registry answered an HTTP request with an error status (after retries for 5xx and 429). Exit 2.",
        why: "capm cannot resolve or install from a registry whose index or archive it cannot read.",
        fix: "Check the registry's `url` in capm.toml and that the server is up; a 404 on an archive means the registry lost a file its index lists.",
    }
    "network-timeout" Error {
        summary: "A server sent nothing for longer than the HTTP timeout (CAPM_HTTP_TIMEOUT, 30 s by default), after retries. Exit 2.",
        why: "Waiting forever would hang CI and the desktop app.",
        fix: "Check the connection and proxy settings (HTTPS_PROXY, NO_PROXY), or raise CAPM_HTTP_TIMEOUT for a slow server.",
    }
    "cancelled" Error {
        summary: "The client of `capm serve` cancelled the request (`$/cancelRequest`); it stopped at its next safe point. Exit 130.",
        why: "A request stops only where stopping leaves nothing half done: before a fetch, between planning steps, or before the commit point of an apply, which is then rolled back.",
        fix: "Nothing to fix: send the request again when it is wanted.",
    }
    "network-error" Error {
        summary: "A connection to a server failed: the name did not resolve, the connection was refused or reset, or TLS failed. Exit 2.",
        why: "The registry cannot be reached from this machine.",
        fix: "Check the URL, the connection and proxy settings; for a private CA, point SSL_CERT_FILE at its certificates.",
    }
    "truncated-download" Error {
        summary: "A download ended before the length the server announced. Exit 2.",
        why: "A cut-short index or archive cannot be verified, so nothing of it is used.",
        fix: "Run the command again; a server that keeps cutting responses short needs fixing on its side.",
    }
    "download-too-large" Error {
        summary: "A server sent more than capm reads for one file (100 MiB). Exit 1.",
        why: "A bundle is never that large; reading on would let a hostile server exhaust memory or disk.",
        fix: "Check the registry: an index file or archive that size is not a capm bundle.",
    }
    "invalid-ca-file" Error {
        summary: "SSL_CERT_FILE names a file that cannot be read or holds no PEM certificate. Exit 2.",
        why: "capm trusts exactly the certificates that file holds when it is set; with none, no HTTPS server could be trusted.",
        fix: "Point SSL_CERT_FILE at a PEM bundle of CA certificates, or unset it to use the built-in roots.",
    }
    "invalid-archive" Error {
        summary: "A bundle's archive is not a valid .tar.gz or .tar.zst of regular files inside the bundle (absolute paths, `..`, links, devices, duplicates, or past the size limits).",
        why: "capm unpacks only archives that cannot write outside the bundle or exhaust the disk.",
        fix: "Republish the bundle with `capm publish`, which writes archives capm reads.",
    }
    "ambiguous-source" Error {
        summary: "Several registries publish a bundle of the same name, and the project did not choose one.",
        why: "Taking whichever is found first would let one registry stand in for another's bundle.",
        fix: "Name the registry in capm.toml: `name = { version = \"^1\", registry = \"team\" }`.",
    }
    "invalid-bundle" Error {
        summary: "A bundle to resolve or publish has validation errors.",
        why: "capm never installs or publishes a bundle that fails its checks.",
        fix: "Run `capm lint` on the bundle and fix what it reports.",
    }
    "export-refused" Error {
        summary: "`capm export` cannot write the bundle in the format asked for.",
        why: "Each format holds only some of what a bundle can say: server.json describes MCP servers run as npm, PyPI or OCI packages or reached by URL, a repository of Agent Skills holds skills. capm writes nothing rather than a file that runs something else.",
        fix: "Export to a format that holds the bundle's resources, or change the server to be launched as a pinned package (`npx -y pkg@1.2.3`, `uvx pkg==1.2.3`, `docker run … image`).",
    }
    "destination-not-empty" Error {
        summary: "The directory `capm export` was asked to write already holds files.",
        why: "Writing into it would mix the export with what is there, or overwrite someone's files; capm never does either.",
        fix: "Name a directory that does not exist yet (it is created), or empty this one first.",
    }
    "invalid-registry" Error {
        summary: "A registry's index.toml cannot be read.",
        why: "Resolution trusts the index for versions, dependencies and digests; a broken index cannot be trusted.",
        fix: "Restore the index from the registry's history, or republish the bundles with `capm publish`.",
    }
    "lock-stale" Error {
        summary: "capm.lock would change, but --locked was given.",
        why: "In CI, --locked proves that the committed lock matches capm.toml, so every machine installs the same bundles.",
        fix: "Run `capm lock` (or the command without --locked) and commit the new capm.lock.",
    }
    "corrupt-lock" Error {
        summary: "capm.lock cannot be read.",
        why: "Ownership of installed files is derived from the lock; capm will not guess it.",
        fix: "Restore capm.lock from version control; if it is lost, delete it and run `capm lock`.",
    }
    "invalid-project" Error {
        summary: "capm.toml has errors, so the project cannot be resolved.",
        why: "Resolution starts from capm.toml; a broken manifest would resolve the wrong thing.",
        fix: "Run `capm lint capm.toml` and fix what it reports.",
    }
    "publish-refused" Error {
        summary: "A registry refused a publish: the version exists with other content, or the registry is damaged.",
        why: "A published version never changes, so that every lock naming it keeps meaning the same bytes.",
        fix: "Bump the bundle's version and publish again.",
    }
    "oci-error" Error {
        summary: "An OCI registry could not be used: unreachable, refused the credentials, or served something that is not a capm bundle.",
        why: "capm reads only manifests it wrote (artifactType application/vnd.capm.bundle.v1, one bundle layer); anything else could be any image.",
        fix: "Check the reference (HOST/REPOSITORY, no tag), the network, and the credentials (CAPM_OCI_USERNAME/CAPM_OCI_PASSWORD or ~/.docker/config.json).",
    }
    "not-in-graph" Error {
        summary: "`capm why` was asked about a bundle or resource the project does not resolve to.",
        why: "There is no chain to show.",
        fix: "`capm tree --resources` lists everything in the graph.",
    }
    "version-not-found" Error {
        summary: "`capm info NAME@VERSION` or `capm yank NAME@VERSION` named a version, or a requirement, that no published version matches.",
        why: "capm shows what a source publishes; it never picks a version other than the one asked for.",
        fix: "Pick one of the versions the message lists, or write a requirement such as `NAME@^1`.",
    }
    "unused-skip" Warning {
        summary: "A bundle's `skip` in capm.toml names a resource that no bundle of the project provides.",
        why: "It settles nothing: a misspelt name leaves the conflict it was meant for unsettled.",
        fix: "Correct the name (the warning names the closest resource), or remove the entry.",
    }
    "invalid-skip" Error {
        summary: "A `skip` entry of a bundle in capm.toml is not a resource reference (`KIND:NAME`), or is listed twice.",
        why: "`skip` records conflicts settled by keeping your own version; an entry capm cannot match to a resource settles nothing.",
        fix: "Write resources as `mcp:NAME`, `skill:NAME`, `plugin:NAME`, `agent:NAME` or `command:NAME`, each once.",
    }
    "removes-everything" Warning {
        summary: "An install would remove every installed bundle, because capm.toml asks for no bundle at all.",
        why: "`capm install` makes the project match capm.toml; a capm.toml emptied or truncated by mistake would uninstall everything.",
        fix: "If capm.toml lost its bundles by mistake, restore it (from version control) before installing; to remove bundles on purpose, `capm remove NAME` says so explicitly.",
    }
    "client-gate" Warning {
        summary: "A client reads what capm writes for it only once the user has trusted the project (Codex: `trust_level = \"trusted\"` for the project in its user config; Gemini CLI: the folder trusted in `~/.gemini/trustedFolders.json`).",
        why: "The files are written, but until then the client ignores them: the servers and agents seem missing.",
        fix: "Start the client in the project and trust it when it asks; capm never writes a trust setting itself.",
    }
    "not-for-client" Warning {
        summary: "A resource of a kind one of the project's clients has no place for (an OpenCode plugin for Claude Code, an agent for Cursor): it is installed for the other clients only.",
        why: "Each client loads only the kinds of resource it knows; writing the file anyway would give it something it never reads.",
        fix: "Nothing to do if the other clients are enough; otherwise use the bundle with a client that can load it.",
    }
    "clients-disagree" Error {
        summary: "Two of the project's clients share a file or directory, but the resource would be written there differently for each.",
        why: "A shared place holds one version: whichever capm wrote, one client would read something meant for another.",
        fix: "Leave one of the two clients out of `targets`, or report the bundle: its resource cannot be written once for both.",
    }
    "skill-read-twice" Warning {
        summary: "A client reads the same skill from two directories: no choice of skills directories gives every client of the project each skill once, or a copy you modified stayed where the skill moved from.",
        why: "Some clients read only their own directory (Claude Code: `.claude/skills`; Codex: `.agents/skills`), and others read both of those: with all of them in `targets`, one reads the same skill twice. When `targets` changes, a skill moves to the directory the clients now share, and a copy you modified is never deleted.",
        fix: "Copies capm wrote are identical, so the client shows the skill twice at worst; leave one client out of `targets` to avoid it. A modified copy left behind: move your edits over and delete it.",
    }
    "replaces-built-in" Warning {
        summary: "A bundle's command, agent or skill has the name of one OpenCode provides itself (`/review`, `plan`, …), so it replaces the built-in.",
        why: "OpenCode reads the project's files after its own: the built-in disappears without a word, and `/review` runs the bundle's prompt instead.",
        fix: "Nothing to do if you want the bundle's version; otherwise leave the bundle out, or ask its author for another name.",
    }
    "not-in-project" Error {
        summary: "`capm update` or `capm remove` named a bundle the project does not have (for removal: one capm.toml does not list).",
        why: "capm changes only what was asked for; a name it does not know is more likely a typo than a request to do nothing.",
        fix: "`capm list` shows the installed bundles and capm.toml lists the ones you asked for; a dependency goes away with the bundles that need it.",
    }
    "still-needed" Error {
        summary: "`capm remove` named a bundle another bundle of the project still depends on.",
        why: "Removing it would break the bundle that needs it.",
        fix: "`capm why BUNDLE` shows what needs it; remove that bundle too, or keep this one.",
    }
    "invalid-plan" Error {
        summary: "The file given to `capm apply --plan` is not a plan capm saved.",
        why: "`apply --plan` applies exactly the plan a person reviewed; a file that is not one cannot say what that was.",
        fix: "Save the plan with `capm plan install|update|uninstall … --out FILE`, review it, and apply that file.",
    }
    "unknown-code" Error {
        summary: "`capm explain` was asked about a code capm does not have.",
        why: "There is nothing to explain.",
        fix: "`capm explain --list` lists every code; the error names the closest one.",
    }
    "usage" Error {
        summary: "The command line asks for something capm cannot do: an unknown option, a missing or invalid argument, an invalid environment setting. Exit 2.",
        why: "capm does nothing rather than guess what was meant.",
        fix: "Correct the argument the message names; `capm COMMAND --help` lists the options.",
    }
    "no-project" Error {
        summary: "No capm.toml in the directory given by --project, nor in any directory above it (or above the current directory). Exit 2.",
        why: "Project commands start from capm.toml.",
        fix: "Run `capm init` to create one, or pass `--project DIR` naming the project.",
    }
    "io" Error {
        summary: "An operation of the system failed: reading, writing, creating or syncing a file, or a bug. Exit 2.",
        why: "The message names the file and the operation; a change under way was rolled back, so nothing is half-written.",
        fix: "Fix what the system reported (space on the disk, permissions), then run the command again.",
    }
    "locked" Error {
        summary: "Another capm process held the scope's lock (`.capm/lock`) or the registry's lock past the wait. Exit 3.",
        why: "Two changes to the same files at once could interleave; capm waits `CAPM_LOCK_TIMEOUT` seconds (default 60), then gives up without touching anything.",
        fix: "Wait for the other capm to finish, then run the command again; raise CAPM_LOCK_TIMEOUT to wait longer.",
    }
    "invalid-config" Error {
        summary: "A client's config file of the scope does not parse, or is not an object where capm writes an entry.",
        why: "capm never writes a file it cannot read back exactly, cannot tell what a broken file already defines, and would replace a top level or a servers key that is not an object.",
        fix: "Fix the file at the line and column shown (JSON with comments and trailing commas, or TOML for Codex), or make the key the help names an object, then plan again.",
    }
    "recovery-pending" Error {
        summary: "An interrupted transaction waits for recovery, and until it is rolled back the scope holds half of it.",
        why: "A plan computed over a half-applied change would take capm's own unfinished writes for the user's files (and offer to adopt them); read-only commands never recover, so they refuse to plan until recovery has run.",
        fix: "Run `capm doctor` (or any mutating command, which recovers first), then plan again.",
    }
    "recovery-finishing" Warning {
        summary: "A committed transaction's clean-up waits for the next run.",
        why: "Its changes are all in place, so the plan is exact; only capm's own backups and journal remain, which `capm doctor` or the next mutating command removes.",
        fix: "Nothing is needed; `capm doctor` finishes the clean-up now.",
    }
    "plan-stale" Error {
        summary: "The plan no longer matches the project: something it read changed before it was applied.",
        why: "A plan is approved as shown; applying anything else, even a plan recomputed a moment later, would apply what nobody reviewed.",
        fix: "Compute the plan again (`capm plan …`), review it, and apply the new one.",
    }
    "read-only-target" Error {
        summary: "A file the plan would replace is read-only.",
        why: "A read-only file is a statement that it must not change; capm will not replace it behind that.",
        fix: "Make the file writable (`chmod u+w FILE`) if it should change, or leave the bundle out.",
    }
    "unsafe-path" Error {
        summary: "A target is reached through a symbolic link that leads outside the scope, or is a link itself.",
        why: "capm writes only inside the scope it was given; following a link out of it could overwrite anything.",
        fix: "Replace the link with the file or directory it points to, or point it inside the project.",
    }
    "journal-refused" Error {
        summary: "An interrupted transaction's journal cannot be recovered: it is damaged or names paths outside the scope.",
        why: "Recovery restores files from the journal's records; a journal that cannot be trusted is not acted on, and nothing is touched.",
        fix: "Inspect the journal named in `.capm/txn/`, restore any file it concerns by hand, then delete it.",
    }
    "input-refused" Error {
        summary: "A value was given for an environment variable that may not have one: a secret, a variable no server of the project reads, or a value with an `{env:}` or `{file:}` reference that OpenCode would replace.",
        why: "capm never records a secret's value (capm.toml is committed), and a value for a variable nothing reads would sit in capm.toml doing nothing.",
        fix: "Set secrets in the environment OpenCode starts in; give `--input NAME=VALUE` only for the non-secret settings the plan's environment lists.",
    }
    "plan-blocked" Error {
        summary: "The plan is blocked: a security finding, a conflict with something the user owns, or an unsupported resource.",
        why: "Plans fail closed: nothing is applied while any part of the plan is blocked.",
        fix: "The plan lists each blocked action with its reason and a `help:` line; fix those, or leave the bundle out.",
    }
    "not-edited" Error {
        summary: "`capm keep` or `capm restore` named a resource that is not an edit of yours to settle.",
        why: "Keeping records your version of something capm installed as yours, and restoring puts capm's back over your edit; a resource no bundle of the project installs, or one you did not change, has neither.",
        fix: "Run `capm doctor`: it lists each resource as ok, modified or kept; name a modified (or kept) one.",
    }
    "not-confirmed" Error {
        summary: "A command that changes files was not confirmed.",
        why: "Without a terminal to ask on, capm applies a plan only when `--yes` says so.",
        fix: "Review the plan shown, then run the command again with `--yes` (or with `--dry-run` to only show it).",
    }
    "invalid-policy" Error {
        summary: "A `[policy] allow` entry that is malformed.",
        why: "An allowance is an explicit, reviewed exception to a security rule; it must name the rule, the resource and the sha256 of the exact launch spec it allows.",
        fix: "Write `{ rule = \"SC-001\", resource = \"mcp:NAME\", spec = \"sha256:<64 hex digits>\" }`, copying the digest capm lint prints.",
    }
}
