// Generated from schemas/doctor.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

export type Drift = "ok" | "modified" | "kept" | "missing";

/**
 * The doctor's findings.
 */
export interface Doctor {
  /**
   * Always `capm.doctor/v1`.
   */
  schema: "capm.doctor/v1";
  /**
   * Everything recorded is on disk (as written, or as the user edited it), nothing
   * refused recovery, and every config file parses.
   */
  healthy: boolean;
  /**
   * The clients the project installs into (capm.toml's `targets`), in its order.
   */
  targets: string[];
  recovery: RecoveryReport;
  resources: ResourceCheck[];
  /**
   * Other problems: config files that do not parse, a lock that cannot be read.
   */
  problems: string[];
}
/**
 * What recovery did, in the report.
 */
export interface RecoveryReport {
  /**
   * Interrupted transactions undone.
   */
  rolled_back: string[];
  /**
   * Committed transactions whose clean-up was finished.
   */
  finished: string[];
  /**
   * Targets someone else changed during an interrupted transaction: kept as they are,
   * with capm's copy of the earlier content at `saved`.
   */
  conflicts: ConflictReport[];
  /**
   * Journals refused (naming paths outside the scope, or damaged): nothing was touched.
   */
  refused: RefusedJournal[];
  /**
   * capm's own files it no longer needs but could not delete; the next run tries again.
   */
  leftovers: LeftoverReport[];
}
export interface ConflictReport {
  path: string;
  saved?: string;
}
export interface RefusedJournal {
  journal: string;
  reason: string;
}
export interface LeftoverReport {
  path: string;
  /**
   * What the operating system answered, naming the entry that could not be deleted.
   */
  error: string;
}
/**
 * One resource capm.lock records, checked against the disk.
 */
export interface ResourceCheck {
  id: string;
  bundle: string;
  /**
   * The file or directory, relative to the scope root.
   */
  path: string;
  /**
   * For a config entry: its JSON pointer in `path` (`/mcpServers/github`).
   */
  pointer?: string;
  /**
   * For an element of a config array: the npm package.
   */
  element?: string;
  /**
   * Client names (`claude-code`, `copilot`): one place is shared by every client that
   * reads it there. Empty when no client of `targets` does any more (the next install
   * removes it).
   */
  clients: string[];
  status: Drift;
}
