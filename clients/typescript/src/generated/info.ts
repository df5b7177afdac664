// Generated from schemas/info.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

/**
 * How far a bundle or plugin is trusted in a product mode.
 */
export type Tier = "supported" | "experimental" | "blocked" | "unsupported";
/**
 * What a permission asks the user to accept.
 */
export type PermissionKind =
  "provider" | "filesystem" | "mcp" | "shell" | "workflow" | "plugin" | "network" | "credential";

/**
 * What `capm info BUNDLE --format json` prints.
 */
export interface Info {
  /**
   * Always `capm.info/v1`.
   */
  schema: "capm.info/v1";
  name: string;
  version: string;
  description: string;
  license?: string;
  repository?: string;
  keywords: string[];
  /**
   * `catalog`, `path+DIR` or `registry+NAME`.
   */
  source: string;
  /**
   * `sha256:` and the content digest of this version.
   */
  sha256: string;
  /**
   * Every version the source has, newest first.
   */
  versions: string[];
  /**
   * The version the project's capm.lock records, if any.
   */
  installed?: string;
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
  resources: ResourceInfo[];
  permissions: PermissionInfo[];
  dependencies: DependencyInfo[];
}
/**
 * A resource the bundle provides, with where it runs or what it ships.
 */
export interface ResourceInfo {
  /**
   * `KIND:NAME`.
   */
  id: string;
  /**
   * A local MCP server's command and arguments.
   */
  command?: string[];
  /**
   * A remote MCP server's URL.
   */
  url?: string;
  /**
   * An npm plugin's `package@version`.
   */
  npm?: string;
  /**
   * A file or directory of the bundle (skills, agents, commands, path plugins).
   */
  path?: string;
  /**
   * How far a bundle or plugin is trusted in a product mode.
   */
  tier?: "supported" | "experimental" | "blocked" | "unsupported";
}
/**
 * A permission the bundle asks the user to accept.
 */
export interface PermissionInfo {
  kind?: PermissionKind;
  id: string;
  reason: string;
  required: boolean;
}
/**
 * A dependency on another bundle.
 */
export interface DependencyInfo {
  name: string;
  /**
   * The requirement as written.
   */
  req: string;
  optional: boolean;
}
