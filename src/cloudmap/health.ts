import type { InstanceRecord, ServiceRecord } from '../state/records/cloudmap.js';

/** An instance's health as the API reports it: UNKNOWN when its service has no health check (Cloud Map's word). */
export type ReportedHealth = 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN';

export function reportedHealth(service: Pick<ServiceRecord, 'customHealth'>, instance: Pick<InstanceRecord, 'health'>): ReportedHealth {
  return service.customHealth ? instance.health : 'UNKNOWN';
}

/** Whether an instance is in answers: only a health check saying UNHEALTHY takes it out (no check = healthy). */
export const servesTraffic = (health: ReportedHealth) => health !== 'UNHEALTHY';
