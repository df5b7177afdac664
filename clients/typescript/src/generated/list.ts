// Generated from schemas/list.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

/**
 * What `capm list --format json` prints.
 */
export interface List {
  /**
   * Always `capm.list/v1`.
   */
  schema: "capm.list/v1";
  /**
   * The clients the project installs into (capm.toml's `targets`), in its order.
   */
  targets: string[];
  bundles: ListedBundle[];
}
/**
 * One installed bundle, as `capm list` shows it.
 */
export interface ListedBundle {
  name: string;
  version: string;
  /**
   * `catalog`, `path+DIR` or `registry+NAME`.
   */
  source: string;
  /**
   * Asked for in capm.toml (otherwise installed as a dependency).
   */
  requested: boolean;
  /**
   * The resources capm.lock records for it (`KIND:NAME`), each once.
   */
  resources: string[];
  /**
   * Every place capm.lock records its resources in, with the clients each is there for:
   * a resource installed for three clients in three files has three.
   */
  locations: PlaceDoc[];
}
/**
 * A place of a resource that capm.lock records, with its clients.
 */
export interface PlaceDoc {
  /**
   * `KIND:NAME`.
   */
  resource: string;
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
}
