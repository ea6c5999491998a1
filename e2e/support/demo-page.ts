/**
 * The app's own upload and query paths (src/app/demo-seed.ts) driven in a page of the app's origin:
 * a hospital uploading a CSV and granting a researcher, and a researcher's paid query opened in the
 * tab. Used by the end-to-end specs and the e2e benchmarks; keys are test keys, passed in.
 */
import type { Hex } from 'viem';
import type { Page } from '@playwright/test';

export interface DemoChain {
  rpcUrl: string;
  chainId: number;
  confide: string;
}

/**
 * Uploads a CSV (the text itself, or a URL the page can fetch) as the hospital with `hospitalKey`
 * and grants `researcher`; `seconds` from the upload's start to the grant, measured in the page.
 */
export function seedInPage(
  page: Page,
  o: {
    cfg: DemoChain;
    hospitalKey: Hex;
    researcher: Hex;
    csv?: string;
    csvUrl?: string;
    name: string;
    skip: string[];
    minCohort: number;
    budget: number;
  },
): Promise<{
  datasetId: Hex;
  rows: number;
  committee: string[];
  seconds: number;
  phases: { phase: string; at: number }[];
}> {
  return page.evaluate(async (o) => {
    const m = (await import(
      /* @vite-ignore */ `${location.origin}/src/app/demo-seed.ts`
    )) as typeof import('../../src/app/demo-seed');
    const csvUrl =
      o.csv !== undefined
        ? URL.createObjectURL(new Blob([o.csv], { type: 'text/csv' }))
        : (o.csvUrl ?? '');
    const t = performance.now();
    const r = await m.seedDemo({
      cfg: { ...o.cfg, confide: o.cfg.confide as `0x${string}` },
      hospitalKey: o.hospitalKey,
      researcher: o.researcher,
      csvUrl,
      name: o.name,
      skip: o.skip,
      minCohort: o.minCohort,
      budget: o.budget,
    });
    return {
      datasetId: r.datasetId,
      rows: r.rows,
      committee: r.committee.map(String),
      seconds: (performance.now() - t) / 1000,
      phases: r.phases,
    };
  }, o);
}

/** A researcher's paid query through the app's client, opened in the page. */
export function queryInPage(
  page: Page,
  o: { cfg: DemoChain; key: Hex; datasetId: Hex; text: string },
): Promise<{ queryId: string; seconds: number; phases: string[]; result: unknown }> {
  return page.evaluate(async (o) => {
    const m = (await import(
      /* @vite-ignore */ `${location.origin}/src/app/demo-seed.ts`
    )) as typeof import('../../src/app/demo-seed');
    return m.demoQuery({
      cfg: { ...o.cfg, confide: o.cfg.confide as `0x${string}` },
      key: o.key,
      datasetId: o.datasetId,
      text: o.text,
    });
  }, o);
}

/** The first value of the first result row (a single aggregate's answer). */
export function firstValue(result: unknown): unknown {
  return (result as { rows: { values: unknown[] }[] }).rows[0]?.values[0];
}
