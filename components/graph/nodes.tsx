"use client";
import { Handle, Position, type Node, type NodeProps, type NodeTypes } from "@xyflow/react";
import { memo } from "react";
import type { GraphNodeData } from "./model";

export type FlowNode = Node<GraphNodeData, "entity" | "target">;

const KIND_LABEL = { human: "Human", machine: "Machine", resource: "Resource", scope: "Scope" } as const;

function classes(d: GraphNodeData): string {
  return ["fk-node", d.kind, d.halted ? "halted" : "", d.dim ? "dim" : "", d.lit ? "lit" : ""].filter(Boolean).join(" ");
}

/** Humans and machines: a grant is drawn onto them (target handle on top). */
const EntityNode = memo(function EntityNode({ data, isConnectable }: NodeProps<FlowNode>) {
  return (
    <div className={classes(data)} data-kind={data.kind} title={`${KIND_LABEL[data.kind]} ${data.ref}`}>
      <Handle type="target" position={Position.Top} className="fk-handle fk-handle-target" isConnectable={isConnectable} />
      <div className="kind">
        {KIND_LABEL[data.kind]}
        {data.halted ? <span style={{ color: "var(--bad)" }}> · halted</span> : null}
      </div>
      <div className="name">{data.label}</div>
      <div className="sub">{data.sub}</div>
      {data.kind === "human" ? <Handle type="source" position={Position.Bottom} isConnectable={false} style={{ opacity: 0.3 }} /> : null}
    </div>
  );
});

/** Resources and scopes: a grant is drawn from them (source handle at the bottom). */
const TargetNode = memo(function TargetNode({ data, isConnectable }: NodeProps<FlowNode>) {
  return (
    <div className={classes(data)} data-kind={data.kind} title={`${KIND_LABEL[data.kind]} ${data.ref}`}>
      <Handle type="target" position={Position.Top} isConnectable={false} style={{ opacity: 0.3 }} />
      <div className="kind">{KIND_LABEL[data.kind]}</div>
      <div className="name">{data.label}</div>
      <div className="sub">{data.sub}</div>
      {data.scopeClaims.length > 0 ? (
        <div className="scope-claims" data-testid="scope-claims" title={`Claimed scopes inside this resource:\n${data.scopeClaims.join("\n")}`}>
          {data.scopeClaims.slice(0, 3).map((s) => (
            <span key={s} className="scope-claim mono">
              {s}
            </span>
          ))}
          {data.scopeClaims.length > 3 ? <span className="scope-claim">+{data.scopeClaims.length - 3} more</span> : null}
        </div>
      ) : null}
      <Handle type="source" position={Position.Bottom} className="fk-handle fk-handle-source" isConnectable={isConnectable && data.editable} />
    </div>
  );
});

/** Defined once at module level: a new object per render would remount every node. */
export const NODE_TYPES: NodeTypes = { entity: EntityNode, target: TargetNode };

export function nodeTypeOf(kind: GraphNodeData["kind"]): "entity" | "target" {
  return kind === "human" || kind === "machine" ? "entity" : "target";
}
