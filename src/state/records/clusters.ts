import type { ClusterRecord } from '../../model/cluster.js';
import { recordParser } from './codec.js';

export type { ClusterRecord };

export const parseClusterRecord = recordParser<ClusterRecord>('cluster', { clusterName: 'string', clusterArn: 'string', status: 'string' });
