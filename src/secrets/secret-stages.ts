/**
 * How staging labels move between a secret's versions. Pure: versions in, versions out.
 *
 *   new version V with stages S (default [AWSCURRENT]):
 *     every label in S leaves the version that held it and goes to V;
 *     if AWSCURRENT moved from version P, AWSPREVIOUS goes to P (leaving whoever held it).
 *   A version left without labels is deprecated: kept, hidden unless IncludeDeprecated.
 */
import { invalidParameter } from '../model/errors.js';
import type { SecretVersionMeta } from '../state/records/secrets.js';

export const AWSCURRENT = 'AWSCURRENT';
export const AWSPREVIOUS = 'AWSPREVIOUS';

type Versions = Readonly<Record<string, SecretVersionMeta>>;

/** The version holding `stage`, if any. */
export function versionWithStage(versions: Versions, stage: string): string | undefined {
  for (const [id, v] of Object.entries(versions)) if (v.stages.includes(stage)) return id;
  return undefined;
}

/** Attach `stages` to version `id` (created at `createdDate` when new), moving them off other versions. */
export function attachStages(versions: Versions, id: string, stages: readonly string[], createdDate: number): Record<string, SecretVersionMeta> {
  const wanted = new Set(stages);
  const previousCurrent = wanted.has(AWSCURRENT) ? versionWithStage(versions, AWSCURRENT) : undefined;
  // AWSPREVIOUS follows AWSCURRENT off the version that loses it, unless the caller places it explicitly.
  const movePrevious = previousCurrent !== undefined && previousCurrent !== id && !wanted.has(AWSPREVIOUS);
  const out: Record<string, SecretVersionMeta> = {};
  for (const [vid, v] of Object.entries(versions)) {
    if (vid === id) continue;
    let kept = v.stages.filter((s) => !wanted.has(s) && !(movePrevious && s === AWSPREVIOUS));
    if (movePrevious && vid === previousCurrent) kept = [...kept, AWSPREVIOUS];
    out[vid] = { ...v, stages: kept };
  }
  const own = (Object.hasOwn(versions, id) ? versions[id] : undefined) ?? { stages: [], createdDate };
  const ownKept = own.stages.filter((s) => !wanted.has(s) && !(movePrevious && s === AWSPREVIOUS));
  out[id] = { ...own, stages: [...ownKept, ...stages] };
  return out;
}

/**
 * UpdateSecretVersionStage: move `stage` from `removeFrom` to `moveTo` (either may be absent). A label held
 * by some version can only be moved by naming that version in RemoveFromVersionId, as AWS requires.
 */
export function moveStage(
  versions: Versions,
  stage: string,
  removeFrom: string | undefined,
  moveTo: string | undefined,
  now: number,
): Record<string, SecretVersionMeta> {
  const holder = versionWithStage(versions, stage);
  if (removeFrom !== undefined && holder !== removeFrom) {
    throw invalidParameter(`The staging label ${stage} is not attached to version ${removeFrom}; it can't be removed from it.`);
  }
  if (moveTo !== undefined && holder !== undefined && holder !== moveTo && removeFrom === undefined) {
    throw invalidParameter(
      `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder}, so you must explicitly reference that version in RemoveFromVersionId.`,
    );
  }
  if (moveTo !== undefined) return attachStages(versions, moveTo, [stage], now);
  if (stage === AWSCURRENT && removeFrom !== undefined) {
    throw invalidParameter('You can only move staging label AWSCURRENT to a different secret version. It can’t be completely removed.');
  }
  const out: Record<string, SecretVersionMeta> = {};
  for (const [vid, v] of Object.entries(versions)) out[vid] = vid === removeFrom ? { ...v, stages: v.stages.filter((s) => s !== stage) } : v;
  return out;
}
