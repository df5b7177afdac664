// Generated from schemas/bundle.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

/**
 * How far a bundle or plugin is trusted in a product mode.
 */
export type Tier = "supported" | "experimental" | "blocked" | "unsupported";
/**
 * A dependency on another bundle: a requirement string, or a table.
 */
export type Dependency =
  | string
  | {
      version: string;
      optional?: boolean;
    };
/**
 * The value of an environment variable or header.
 */
export type EnvValue =
  | string
  | {
      "from-env": string;
      secret?: boolean;
      required?: boolean;
    }
  | {
      template: string;
      secret?: boolean;
      required?: boolean;
    };
/**
 * The transport of a remote MCP server.
 */
export type Transport = "streamable-http" | "sse";
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

/**
 * A bundle manifest: what a bundle is and what it provides.
 */
export interface Bundle {
  /**
   * `[bundle]`: who the bundle is.
   */
  bundle: {
    name: string;
    /**
     * A semantic version.
     */
    version: string;
    description: string;
    /**
     * An SPDX license expression.
     */
    license?: string;
    authors?: string[];
    repository?: string;
    keywords?: string[];
  };
  compatibility?: Compatibility;
  /**
   * Other bundles this one needs, by name.
   */
  dependencies?: {
    [k: string]: Dependency;
  };
  /**
   * MCP servers, local (stdio) or remote.
   */
  mcp?: {
    [k: string]: McpServer;
  };
  skills?: {
    [k: string]: PathResource;
  };
  plugins?: {
    [k: string]: Plugin;
  };
  agents?: {
    [k: string]: PathResource;
  };
  commands?: {
    [k: string]: PathResource;
  };
  /**
   * What the bundle asks the user to accept.
   */
  permissions?: Permission[];
  uninstall?: Uninstall;
}
/**
 * `[compatibility]`: which clients and product modes the bundle supports.
 */
export interface Compatibility {
  /**
   * A semver requirement on the OpenCode version.
   */
  opencode?: string;
  /**
   * Mode to tier; a mode not listed is unsupported.
   */
  "product-modes"?: {
    "cloud-channel-gateway"?: Tier;
    "cloud-web"?: Tier;
    "desktop-cloud"?: Tier;
    "desktop-local"?: Tier;
    "headless-host"?: Tier;
    "paired-desktop"?: Tier;
    "standalone-gateway"?: Tier;
  };
}
/**
 * An MCP server. Local servers have `command` (and `args`, `env`, `cwd`); remote ones
 * have `url` (and `transport`, `headers`, `oauth`). Both may set `timeout` and `enabled`.
 */
export interface McpServer {
  command?: string;
  args?: string[];
  env?: {
    [k: string]: EnvValue;
  };
  cwd?: string;
  url?: string;
  transport?: Transport;
  headers?: {
    [k: string]: EnvValue;
  };
  /**
   * OAuth for a remote server: a client to use, or `false` to turn OAuth detection off.
   */
  oauth?:
    | false
    | {
        /**
         * The value of an environment variable or header.
         */
        "client-id"?:
          | string
          | {
              "from-env": string;
              secret?: boolean;
              required?: boolean;
            }
          | {
              template: string;
              secret?: boolean;
              required?: boolean;
            };
        /**
         * The value of an environment variable or header.
         */
        "client-secret"?:
          | string
          | {
              "from-env": string;
              secret?: boolean;
              required?: boolean;
            }
          | {
              template: string;
              secret?: boolean;
              required?: boolean;
            };
        /**
         * The scopes to ask for, space-separated.
         */
        scope?: string;
      };
  /**
   * Milliseconds OpenCode waits for the server to start and answer (its default: 30000).
   */
  timeout?: number;
  /**
   * Whether OpenCode starts the server; defaults to true.
   */
  enabled?: boolean;
  /**
   * Modes this server may run in; defaults to the bundle's supported modes.
   */
  "product-modes"?: ProductMode[];
  requires?: string[];
}
/**
 * A resource shipped as files of the bundle: a skill (a directory holding SKILL.md), an
 * agent or a command (one markdown file).
 */
export interface PathResource {
  path: string;
  requires?: string[];
  "product-modes"?: ProductMode[];
}
/**
 * An OpenCode plugin: an npm package or a file in the bundle. Its `tier` is required.
 */
export interface Plugin {
  /**
   * `package@exact-version`.
   */
  npm?: string;
  path?: string;
  /**
   * How far a bundle or plugin is trusted in a product mode.
   */
  tier: "supported" | "experimental" | "blocked" | "unsupported";
  "product-modes"?: ProductMode[];
  requires?: string[];
}
/**
 * `[[permissions]]`: something the user must accept to use the bundle.
 */
export interface Permission {
  /**
   * What a permission asks the user to accept.
   */
  kind: "provider" | "filesystem" | "mcp" | "shell" | "workflow" | "plugin" | "network" | "credential";
  id: string;
  reason: string;
  /**
   * Defaults to true.
   */
  required?: boolean;
}
/**
 * `[uninstall]`: what happens when the bundle is removed.
 */
export interface Uninstall {
  /**
   * Resources handed to the user, as `KIND:NAME`.
   */
  preserves?: string[];
}
