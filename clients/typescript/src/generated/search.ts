// Generated from schemas/search.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

/**
 * How far a bundle or plugin is trusted in a product mode.
 */
export type Tier = "supported" | "experimental" | "blocked" | "unsupported";

/**
 * What `capm search TEXT --format json` prints.
 */
export interface Search {
  /**
   * Always `capm.search/v1`.
   */
  schema: "capm.search/v1";
  /**
   * The words searched for, joined by spaces; empty when every bundle is listed.
   */
  query: string;
  /**
   * Best matches first: exact names, then names starting with the query, names
   * containing it, keywords, descriptions.
   */
  results: Hit[];
}
/**
 * One search result: a bundle's newest version in one source.
 */
export interface Hit {
  name: string;
  version: string;
  source: string;
  description: string;
  keywords: string[];
  /**
   * The product modes this version declares, with their tier; a mode not listed is
   * unsupported.
   */
  modes: {
    "cloud-channel-gateway"?: Tier;
    "cloud-web"?: Tier;
    "desktop-cloud"?: Tier;
    "desktop-local"?: Tier;
    "headless-host"?: Tier;
    "paired-desktop"?: Tier;
    "standalone-gateway"?: Tier;
  };
}
