// Generated from schemas/graph.schema.json by scripts/generate.mjs (npm run generate).
// Do not edit: change the schema and generate again.

/**
 * A node of the graph.
 */
export type GraphNode = GraphNode1 & {
  /**
   * The node's label, which edges refer to.
   */
  id: string;
  kind: NodeKind;
};
export type GraphNode1 =
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
export type NodeKind = "project" | "bundle" | "resource";
/**
 * An edge of the graph, between node ids.
 */
export type GraphEdge = {
  from: string;
  to: string;
} & GraphEdge1;
export type GraphEdge1 =
  | {
      kind: "depends-on";
      /**
       * The requirement as written.
       */
      req: string;
      optional: boolean;
    }
  | {
      kind: "provides";
    }
  | {
      kind: "requires";
    };

/**
 * What `capm graph --format json` prints.
 */
export interface Graph {
  /**
   * Always `capm.graph/v1`.
   */
  schema: "capm.graph/v1";
  nodes: GraphNode[];
  edges: GraphEdge[];
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
