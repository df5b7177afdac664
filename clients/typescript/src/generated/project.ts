// Generated from schemas/project.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

/**
 * The client whose configuration receives resources.
 */
export type Target = "opencode" | "claude-code" | "gemini" | "codex" | "copilot" | "qwen" | "cursor" | "vscode";
/**
 * A requested bundle: a version requirement, or a table naming its source.
 */
export type BundleRequest =
  | string
  | {
      version?: string;
      /**
       * A bundle directory, relative to the project.
       */
      path?: string;
      /**
       * A registry declared under `[registries]`.
       */
      registry?: string;
      /**
       * A git repository: a URL (`https://`, `ssh://`, `git@host:path`) or a local
       * path. With it, `path` is the bundle's directory inside the repository.
       */
      git?: string;
      /**
       * With `git`: a tag.
       */
      tag?: string;
      /**
       * With `git`: a branch.
       */
      branch?: string;
      /**
       * With `git`: a commit.
       */
      rev?: string;
      /**
       * An OCI repository (`ghcr.io/org/kit`), whose tags are the versions.
       */
      oci?: string;
      /**
       * Resources (`KIND:NAME`) of this bundle or its dependencies whose conflicts are
       * settled by keeping the user's own version: capm writes nothing there.
       */
      skip?: string[];
      /**
       * With `git` or `path` naming a repository of Agent Skills: the skills to take
       * (every one when absent).
       */
      skills?: string[];
    };

/**
 * A project manifest.
 */
export interface Project {
  project?: ProjectSection;
  /**
   * The bundles the user asked for.
   */
  bundles?: {
    [k: string]: BundleRequest;
  };
  /**
   * Directory registries, besides the built-in catalog.
   */
  registries?: {
    [k: string]: RegistryDecl;
  };
  policy?: Policy;
  /**
   * Values for the non-secret environment variables bundles' servers read
   * (`from-env`), rendered into the config instead of an `{env:VAR}` reference. Secrets
   * never go here: they stay references, set in the environment.
   */
  inputs?: {
    [k: string]: string;
  };
}
/**
 * `[project]`: where and how resources are installed.
 */
export interface ProjectSection {
  /**
   * The one client resources are installed into; `targets` names several. Defaults to
   * `opencode`.
   */
  target?: "opencode" | "claude-code" | "gemini" | "codex" | "copilot" | "qwen" | "cursor" | "vscode";
  /**
   * The clients resources are installed into, each once.
   */
  targets?: Target[];
  /**
   * Defaults to `project`.
   */
  scope?: "project" | "global";
  /**
   * Defaults to `desktop-local`.
   */
  "product-mode"?:
    | "desktop-local"
    | "desktop-cloud"
    | "cloud-web"
    | "cloud-channel-gateway"
    | "standalone-gateway"
    | "paired-desktop"
    | "headless-host";
}
/**
 * A registry declaration: exactly one of `path`, `url`, `marketplace` and `mcp-registry`.
 */
export interface RegistryDecl {
  /**
   * A directory holding a registry, relative to the project.
   */
  path?: string;
  /**
   * The `https://` URL of a registry's root (`http://` only for this machine).
   */
  url?: string;
  /**
   * A Claude Code marketplace: a git URL or a local path of the repository holding
   * `.claude-plugin/marketplace.json`.
   */
  marketplace?: string;
  /**
   * The `https://` URL of an MCP Registry (its REST API's root).
   */
  "mcp-registry"?: string;
}
/**
 * `[policy]`: reviewed exceptions to security rules.
 */
export interface Policy {
  allow?: Allowance[];
}
/**
 * One allowance: a rule, a resource, and the sha256 of the exact launch spec allowed.
 */
export interface Allowance {
  rule: string;
  resource: string;
  spec: string;
}
