// Generated from schemas/apply.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

/**
 * How a mutating command ended.
 */
export type ApplyOutcome = "applied" | "noop" | "dry-run" | "blocked" | "declined";
export type Operation = "install" | "update" | "uninstall";
/**
 * Where the agent runtime runs. Every mode but `desktop-local` is remote.
 */
export type ProductMode =
  | "desktop-local"
  | "desktop-cloud"
  | "cloud-web"
  | "cloud-channel-gateway"
  | "standalone-gateway"
  | "paired-desktop"
  | "headless-host";
export type PlanStatus = "ready" | "blocked" | "noop";
/**
 * What a plan does at the location.
 */
export type ActionKind = "create" | "update" | "remove" | "keep" | "adopt" | "preserve" | "block";
/**
 * How much a diagnostic matters.
 */
export type Severity = "error" | "warning" | "info";
export type Risk = "low" | "medium" | "high";

/**
 * What `--format json` prints for `install`, `add`, `update`, `remove` and `apply`.
 */
export interface Apply {
  /**
   * Always `capm.apply/v1`.
   */
  schema: "capm.apply/v1";
  outcome: ApplyOutcome;
  plan: CapmPlan;
  /**
   * Where capm wrote its versions of resources the user modified (relative to the
   * scope).
   */
  proposals: string[];
  /**
   * What capm could not delete after the change was committed, each with its path and
   * the system's error; the next run tries again.
   */
  leftovers: string[];
}
/**
 * The plan shown, or the one applied.
 */
export interface CapmPlan {
  /**
   * Always `capm.plan/v1`.
   */
  schema: "capm.plan/v1";
  operation: Operation;
  request: PlanRequestDoc;
  /**
   * `project` or `global`.
   */
  scope: string;
  product_mode: ProductMode;
  status: PlanStatus;
  /**
   * sha256 over the canonical plan and the digests of every file it read or will write,
   * as they were: applying refuses the plan if any of them changed.
   */
  fingerprint: string;
  actions: Action[];
  findings: Diagnostic[];
  permissions: PermissionReview[];
  risk: Risk;
  bundles: PlannedBundle[];
  /**
   * Edits to capm.toml's `[bundles]` that applying makes (`add github = "^1.2.0"`).
   */
  manifest_changes: string[];
  /**
   * Environment variables the planned servers read (`{env:VAR}` references).
   */
  environment: EnvRequirement[];
}
/**
 * What was asked for, so that `capm apply --plan` can compute the plan again and check
 * that it is still exactly the same.
 */
export interface PlanRequestDoc {
  /**
   * The bundles named on the command line, as `NAME`, `NAME@REQ`, or the path of a bundle
   * directory relative to the project (`./tools`).
   */
  bundles?: string[];
  /**
   * Update beyond capm.toml's requirements.
   */
  latest?: boolean;
  /**
   * Uninstall files the user modified too.
   */
  purge?: boolean;
  /**
   * Resources (`KIND:NAME`) left out because the user keeps their own version there.
   */
  skip?: string[];
  /**
   * Values for non-secret environment variables, recorded in capm.toml's `[inputs]`.
   */
  inputs?: {
    [k: string]: string;
  };
  /**
   * Resources (`KIND:NAME`) whose edited version the user keeps as theirs (`capm keep`).
   */
  keep?: string[];
  /**
   * Resources (`KIND:NAME`) where capm's version replaces the user's edit
   * (`capm restore`).
   */
  restore?: string[];
  /**
   * The registry the bundles named come from (`capm add --registry NAME`).
   */
  registry?: string;
}
/**
 * One step of a plan.
 */
export interface Action {
  action: ActionKind;
  /**
   * `KIND:NAME`.
   */
  resource: string;
  bundle: string;
  target: Location;
  /**
   * The clients that read it there (`opencode`, `claude-code`, …): more than one where
   * clients share the place.
   */
  clients: string[];
  /**
   * The digest of what is there now.
   */
  before?: string;
  /**
   * The digest of what will be there.
   */
  after?: string;
  /**
   * For config keys: the entry before and after, as short JSON.
   */
  diff?: string;
  /**
   * Why the action is what it is (`conflict-user-owned`, …).
   */
  reason?: string;
  help?: string;
}
/**
 * Where an action lands: a file, and for config keys the JSON pointer inside it.
 */
export interface Location {
  /**
   * Relative to the scope root.
   */
  file: string;
  pointer?: string;
  /**
   * For elements of a config array (npm plugins): the package name.
   */
  element?: string;
}
/**
 * One problem found in the user's input.
 */
export interface Diagnostic {
  /**
   * Stable code: `capm explain CODE` says what it means.
   */
  code: string;
  severity: Severity;
  message: string;
  location?: Location2;
  /**
   * The resource concerned, as `KIND:NAME`, or `bundle:NAME` for the bundle itself.
   */
  resource?: string;
  help?: string;
  /**
   * For security findings: the rule's own severity (block, high, medium, low).
   */
  rule_severity?: "block" | "high" | "medium" | "low";
  /**
   * For security findings on a resource: the digest of its launch spec, which a
   * `[policy] allow` entry must name.
   */
  spec?: string;
  /**
   * Set when a `[policy] allow` entry accepted this finding.
   */
  allowed?: boolean;
}
/**
 * Where a diagnostic points: a file, and when known the place in it.
 */
export interface Location2 {
  /**
   * The file, as a path relative to the directory capm was run from when possible.
   */
  file: string;
  /**
   * 1-based line of the start of the span.
   */
  line?: number;
  /**
   * 1-based column (in characters) of the start of the span.
   */
  column?: number;
  end_line?: number;
  end_column?: number;
}
/**
 * A permission a bundle asks for, to be reviewed before applying.
 */
export interface PermissionReview {
  bundle: string;
  kind: string;
  id: string;
  reason: string;
  required: boolean;
  /**
   * For a `filesystem` permission, the files OpenCode reads into the config of the
   * bundle's servers through `{file:…}` (SUBST-002), which the permission covers.
   */
  reads?: FileRead[];
}
/**
 * A `{file:PATH}` in a server's rendered config: OpenCode sends the file's contents.
 */
export interface FileRead {
  /**
   * `mcp:NAME`.
   */
  resource: string;
  /**
   * Where the reference is: `argument …`, `env.NAME`, `headers.NAME`, `url`, ….
   */
  field: string;
  /**
   * The path as written; a relative one is taken from the config file's directory.
   */
  path: string;
}
/**
 * A bundle the plan installs or keeps, as capm.lock will record it.
 */
export interface PlannedBundle {
  name: string;
  version: string;
  source: string;
  sha256: string;
  /**
   * The version capm.lock records now, when the plan changes it (`0.2.0` for
   * `0.2.0 → 0.3.0`).
   */
  previous?: string;
  /**
   * For a git source: the commit it will be at.
   */
  commit?: string;
  /**
   * For a git source whose reference moved (a tag pushed again, a branch with new
   * commits): the commit capm.lock records now.
   */
  previous_commit?: string;
}
/**
 * An environment variable the planned servers read when they start.
 */
export interface EnvRequirement {
  name: string;
  /**
   * The resources (`KIND:NAME`) that read it.
   */
  resources: string[];
  /**
   * A secret: capm never reads, stores or shows its value; the user sets it.
   */
  secret: boolean;
  /**
   * The server needs it to work.
   */
  required: boolean;
  /**
   * Not secret, and capm.toml's `[inputs]` gives its value, which is written into the
   * config instead of a reference.
   */
  input: boolean;
}
