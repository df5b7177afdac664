// Generated from schemas/error.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

/**
 * What `--format json` prints on stdout when a command fails (and prints the same as a
 * human message on stderr).
 */
export interface ErrorDocument {
  /**
   * Always `capm.error/v1`.
   */
  schema: "capm.error/v1";
  /**
   * What failed, as a stable code. Exit 2: `usage` (the command line), `io` (the
   * system), `no-project` (no capm.toml), `path-not-found`; exit 3: `locked`; exit 1:
   * the code of what was refused (`bundle-not-found`, `plan-blocked`, `lock-stale`, …),
   * which `capm explain CODE` explains, like every code here.
   */
  code: string;
  message: string;
  details?: string[];
  help?: string;
  /**
   * The exit code.
   */
  exit: number;
}
