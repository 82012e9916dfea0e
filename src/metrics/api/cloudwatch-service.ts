import type { JsonService, Operation } from '../../api/protocol/json-rpc.js';
import type { QueryService } from '../../api/protocol/query-rpc.js';
import { loadServiceModel } from '../../api/protocol/service-model.js';
import { alarmOperations } from '../alarms/alarm-api.js';
import type { AlarmsEnv } from '../alarms/alarms-env.js';
import type { MetricsEnv } from './env.js';
import { cloudwatchInputError, invalidValue } from './errors.js';
import { getMetricData } from './get-metric-data.js';
import { getMetricStatistics } from './get-metric-statistics.js';
import { cloudwatchActions } from './iam-actions.js';
import { listMetrics } from './list-metrics.js';
import { putMetricData } from './put-metric-data.js';

/** CloudWatch's Smithy service name: the JSON protocol's X-Amz-Target prefix and the CBOR protocol's path segment. */
export const CLOUDWATCH_TARGET = 'GraniteServiceVersion20100801';

/**
 * Amazon CloudWatch's metrics, one implementation served in the three protocols its clients speak: the AWS Query
 * protocol (the AWS CLI v2), JSON 1.0 (the SDK for JavaScript v3 today) and Smithy RPC v2 CBOR (boto3 1.43 and
 * newer SDKs), all signed for `monitoring`: metrics and metric alarms. Every action of the model berth does not serve yet (composite alarms,
 * dashboards, metric streams, Contributor Insights, anomaly detectors) answers UnsupportedFeatureException, the
 * protocol layer's answer for an action of the model a berth service lacks (as ELBv2's do).
 */
export interface CloudWatchServices {
  readonly query: QueryService;
  /** JSON 1.0, and, by the same Smithy service name, RPC v2 CBOR. */
  readonly json: JsonService;
}

export function cloudwatchServices(env: MetricsEnv | AlarmsEnv): CloudWatchServices {
  const model = loadServiceModel('cloudwatch-2010-08-01.json');
  const operations: Record<string, Operation> = {
    // Alarms, over the control plane's Store (a bare MetricsEnv only in tests that build the tables).
    ...(alarmOperations(env as AlarmsEnv) as Record<string, Operation>),
    PutMetricData: (input) => putMetricData(env, input),
    GetMetricData: (input) => getMetricData(env, input),
    GetMetricStatistics: (input) => getMetricStatistics(env, input),
    ListMetrics: (input) => listMetrics(env, input),
  };
  // The model's errors by their Query code (InvalidParameterValue → InvalidParameterValueException): the JSON and
  // CBOR protocols name the shape, and say the Query code in x-amzn-query-error (the model is awsQueryCompatible).
  const shapeByCode = new Map<string, string>();
  for (const [name, shape] of Object.entries(model.shapes) as [string, { exception?: boolean; error?: { code?: string } }][]) {
    if (shape.exception) shapeByCode.set(shape.error?.code ?? name, name);
  }
  return {
    query: {
      signingName: 'monitoring',
      model,
      operations,
      actions: cloudwatchActions,
      inputError: cloudwatchInputError,
      scalarError: (text, field) => invalidValue(field, text),
    },
    json: {
      targetPrefix: CLOUDWATCH_TARGET,
      signingNames: ['monitoring'],
      model,
      operations,
      actions: cloudwatchActions,
      inputErrorType: cloudwatchInputError,
      contentType: 'application/x-amz-json-1.0',
      wireError: (type, code, status) => {
        const shape = shapeByCode.get(type);
        return {
          type: shape ? `com.amazonaws.cloudwatch#${shape}` : type,
          queryError: `${code};${status >= 500 ? 'Receiver' : 'Sender'}`,
        };
      },
    },
  };
}
