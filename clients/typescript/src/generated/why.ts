// Generated from schemas/why.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

/**
 * One step of a chain.
 */
export type WhyStep = WhyStep1 & {
  /**
   * For a bundle: the requirement by the step before it.
   */
  req?: string;
};
export type WhyStep1 =
  | BundleDoc
  | {
      /**
       * The resource, as `KIND:NAME`.
       */
      resource: string;
    }
  | {
      /**
       * Always `true`.
       */
      project: true;
    };

/**
 * What `capm why TARGET --format json` prints.
 */
export interface Why {
  /**
   * Always `capm.why/v1`.
   */
  schema: "capm.why/v1";
  /**
   * The bundle name or `KIND:NAME` asked about.
   */
  target: string;
  /**
   * Every chain from the project to the target, each step after the project in order.
   */
  chains: WhyStep[][];
  /**
   * For a resource: the bundles of capm.toml whose `skip` lists it, so that a conflict
   * there keeps the user's own version.
   */
  skipped_by?: string[];
  /**
   * For a resource: every place capm.lock records it in, with the clients it is there
   * for; empty for a bundle, and for a resource not installed yet.
   */
  locations: PlaceDoc[];
}
/**
 * A resolved bundle.
 */
export interface BundleDoc {
  name: string;
  version: string;
  /**
   * Where it comes from: `catalog`, `registry+NAME` or `path+DIR`.
   */
  source: string;
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
