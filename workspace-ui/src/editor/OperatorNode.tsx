import { CheckCircleFilled, ClockCircleOutlined, CloseCircleFilled, ExclamationCircleFilled, LoadingOutlined, MinusCircleOutlined, PauseCircleOutlined, SyncOutlined } from '@ant-design/icons';
import { Handle, Position, type Node, type NodeProps } from '@xyflow/react';
import { Tooltip } from 'antd';
import { memo, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { OperatorCategory, PortType } from '../api/types.ts';
import type { NodeStatus } from './node-status.ts';

export interface OperatorNodeData extends Record<string, unknown> {
  readonly title: string;
  readonly opLabel: string;
  readonly category: OperatorCategory | 'unknown';
  readonly inputs: readonly (readonly [string, PortType])[];
  readonly outputs: readonly (readonly [string, PortType])[];
  readonly status: NodeStatus;
  /** What the server (or the run) said about this node. */
  readonly problems: readonly string[];
  /** Problems naming one input port (`inputs.<port>`). */
  readonly portProblems: Readonly<Record<string, string>>;
  readonly summary: string;
}

export type OperatorFlowNode = Node<OperatorNodeData, 'operator'>;

const STATUS_ICON: Readonly<Record<NodeStatus, ReactNode>> = {
  unconfigured: <MinusCircleOutlined />,
  invalid: <ExclamationCircleFilled />,
  blocked: <PauseCircleOutlined />,
  checking: <SyncOutlined spin />,
  ready: <CheckCircleFilled />,
  queued: <LoadingOutlined />,
  done: <CheckCircleFilled />,
  failed: <CloseCircleFilled />,
};

/**
 * Ports sit at fixed heights beside the node's title and operator lines (one port level with their
 * middle), not at a share of the node's height: a node grows when a problem is shown under it, and
 * a port must not move away from the pointer while the user is about to connect it.
 */
function portOffset(i: number, n: number): string {
  return n === 1 ? '30px' : `${18 + i * 20}px`;
}

function OperatorNodeView({ id, data, selected }: NodeProps<OperatorFlowNode>) {
  const { t } = useTranslation();
  return (
    <div
      className={`lab-node lab-node-${data.category} lab-node-status-${data.status}${selected ? ' lab-node-selected' : ''}`}
      data-testid={`node-${id}`}
      data-status={data.status}
    >
      {data.inputs.map(([port, type], i) => (
        <Tooltip key={port} title={data.portProblems[port] ?? t('node.inputPort', { port, type: t(`portType.${type}`) })} placement="left">
          <Handle type="target" id={port} position={Position.Left} className={`lab-handle lab-handle-${type}${data.portProblems[port] ? ' lab-handle-bad' : ''}`} style={{ top: portOffset(i, data.inputs.length) }} data-port={port} />
        </Tooltip>
      ))}
      <div className="lab-node-head">
        <span className="lab-node-cat" aria-hidden />
        <span className="lab-node-title" title={data.title}>{data.title}</span>
        <Tooltip title={data.problems.length ? data.problems.join('\n') : t(`status.${data.status}`)}>
          <span className={`lab-node-status lab-status-${data.status}`} aria-label={t(`status.${data.status}`)} data-testid={`status-${id}`}>
            {STATUS_ICON[data.status]}
          </span>
        </Tooltip>
      </div>
      <div className="lab-node-body">
        <div className="lab-node-op">{data.opLabel} · <span className="lab-node-id">{id}</span></div>
        {data.summary && <div className="lab-node-summary" title={data.summary}>{data.summary}</div>}
        {data.problems.length > 0 && <div className="lab-node-problem">{data.problems[0]}</div>}
      </div>
      {data.outputs.map(([port, type], i) => (
        <Tooltip key={port} title={t('node.outputPort', { port, type: t(`portType.${type}`) })} placement="right">
          <Handle type="source" id={port} position={Position.Right} className={`lab-handle lab-handle-${type}`} style={{ top: portOffset(i, data.outputs.length) }} data-port={port} />
        </Tooltip>
      ))}
      {data.status === 'queued' && <ClockCircleOutlined className="lab-node-wait" aria-hidden />}
    </div>
  );
}

/** Node types, declared once (React Flow re-mounts every node when this object changes). */
export const NODE_TYPES = { operator: memo(OperatorNodeView) };
