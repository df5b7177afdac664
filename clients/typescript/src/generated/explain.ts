// Generated from schemas/explain.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

/**
 * How severe a rule's finding is.
 */
export type Level = "block" | "high" | "medium" | "low";

/**
 * What `capm explain CODE --format json` prints.
 */
export interface Explain {
  code: string;
  /**
   * The severity of the diagnostics it reports.
   */
  severity: "error" | "warning" | "info";
  /**
   * One line: what the code reports.
   */
  summary: string;
  /**
   * Why it matters.
   */
  why: string;
  /**
   * How to fix it.
   */
  fix: string;
  /**
   * The rule's own severity; `null` for design rules, which have none.
   */
  rule_severity?: Level | null;
  /**
   * A manifest fragment that triggers the rule.
   */
  example_bad?: string;
  /**
   * A fragment that does the same job and passes.
   */
  example_good?: string;
  /**
   * Always `capm.explain/v1`.
   */
  schema: "capm.explain/v1";
}
