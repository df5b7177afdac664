// Generated from schemas/diagnostics.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

/**
 * How much a diagnostic matters.
 */
export type Severity = "error" | "warning" | "info";

/**
 * The `--format json` document of `capm lint`.
 */
export interface Diagnostics {
  /**
   * Always `capm.diagnostics/v1`.
   */
  schema: "capm.diagnostics/v1";
  summary: Summary;
  /**
   * The bundles that were checked.
   */
  bundles: CheckedBundle[];
  /**
   * The project files (`capm.toml`) that were checked.
   */
  projects: string[];
  diagnostics: Diagnostic[];
}
/**
 * Counts of diagnostics by severity.
 */
export interface Summary {
  errors: number;
  warnings: number;
  infos: number;
}
/**
 * A bundle that was linted.
 */
export interface CheckedBundle {
  /**
   * The bundle's name, when its manifest gave a readable one.
   */
  name?: string;
  version?: string;
  /**
   * The bundle directory.
   */
  path: string;
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
  location?: Location;
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
export interface Location {
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
