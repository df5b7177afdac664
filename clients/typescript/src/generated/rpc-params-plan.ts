// Generated from schemas/rpc-params-plan.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

/**
 * `plan` and `apply`: what to do to which project.
 */
export interface RpcParamsPlan {
  /**
   * The project directory (holding capm.toml).
   */
  project: string;
  /**
   * `install`, `update` or `uninstall`.
   */
  operation: "install" | "update" | "uninstall";
  /**
   * Bundles to add, update or remove, as `NAME` or `NAME@REQ`; to add, also a bundle
   * directory, a git URL (`https://…`, `git+PATH`, `git@host:path`) or `oci://REPOSITORY`,
   * as `capm add` takes them.
   */
  bundles?: string[];
  /**
   * Install: the registry the bundles named come from: a name capm.toml declares, or a
   * URL (declared in capm.toml when applied), as `capm add --registry`.
   */
  registry?: string;
  /**
   * Install, with a git URL: follow this tag, branch or commit, as `capm add --tag`,
   * `--branch` or `--rev`.
   */
  git_ref?:
    | {
        tag: string;
      }
    | {
        branch: string;
      }
    | {
        rev: string;
      };
  /**
   * Update beyond capm.toml's requirements.
   */
  latest?: boolean;
  /**
   * Uninstall files the user modified too.
   */
  purge?: boolean;
  /**
   * Resources (`KIND:NAME`) whose conflicts are settled by keeping the user's version.
   */
  skip?: string[];
  /**
   * Values for non-secret environment variables, recorded in capm.toml's `[inputs]`.
   */
  inputs?: {
    [k: string]: string;
  };
  /**
   * Resources (`KIND:NAME`) the user modified, whose version becomes theirs
   * (`capm keep`).
   */
  keep?: string[];
  /**
   * Resources (`KIND:NAME`) the user modified, where capm's version goes back
   * (`capm restore`).
   */
  restore?: string[];
  /**
   * `apply` only, and required there: the fingerprint of the plan the user approved. The
   * plan is computed again and applied only if it is identical (`plan-stale` otherwise).
   */
  fingerprint?: string;
  /**
   * When given, `$/progress` notifications carrying this token come before the response.
   */
  progress_token?: string | number;
}
