/**
 * The public metadata stored with every partition (set at upload, carried by re-share plans):
 * dataset name, published schema JSON, threshold and the committee's node keys in member order.
 */
import type { PartitionManifest } from '../storage/store';

export const META = {
  name: 'name',
  schema: 'schema',
  threshold: 'threshold',
  committee: 'committee',
} as const;

/** The committee's node keys (hex), in member order, as stored with a partition. */
export function committeeOf(m: PartitionManifest): string[] {
  return String(m.meta[META.committee] ?? '')
    .split(',')
    .filter(Boolean);
}
