/**
 * The texts of the queries this node was asked to run and that the chain authorised (their
 * canonical hash matched the one the researcher paid for), kept so the dataset's owner can read
 * its audit log as queries, not hashes. Query texts are not patient data, but they are only handed
 * to the owner (see NodeService: the request carries the owner's wallet signature).
 */
import { openDB, type IDBPDatabase } from 'idb';

export interface QueryTextLog {
  put(datasetId: string, queryId: string, text: string): Promise<void>;
  /** The texts known for `queryIds` on `datasetId` (unknown ids are left out). */
  get(datasetId: string, queryIds: readonly string[]): Promise<{ queryId: string; text: string }[]>;
}

const STORE = 'texts';

export class IdbQueryTextLog implements QueryTextLog {
  private constructor(private readonly db: IDBPDatabase) {}

  static async open(name = 'confide-query-texts'): Promise<IdbQueryTextLog> {
    const db = await openDB(name, 1, {
      upgrade(d) {
        d.createObjectStore(STORE);
      },
    });
    return new IdbQueryTextLog(db);
  }

  async put(datasetId: string, queryId: string, text: string) {
    await this.db.put(STORE, text, `${datasetId}:${queryId}`);
  }

  async get(datasetId: string, queryIds: readonly string[]) {
    const out: { queryId: string; text: string }[] = [];
    const tx = this.db.transaction(STORE, 'readonly');
    for (const queryId of queryIds) {
      const text = (await tx.store.get(`${datasetId}:${queryId}`)) as unknown;
      if (typeof text === 'string') out.push({ queryId, text });
    }
    await tx.done;
    return out;
  }
}

/** For tests and nodes without IndexedDB: the same log, in memory. */
export class MemoryQueryTextLog implements QueryTextLog {
  private readonly m = new Map<string, string>();
  async put(datasetId: string, queryId: string, text: string) {
    this.m.set(`${datasetId}:${queryId}`, text);
  }
  async get(datasetId: string, queryIds: readonly string[]) {
    return queryIds.flatMap((queryId) => {
      const text = this.m.get(`${datasetId}:${queryId}`);
      return text === undefined ? [] : [{ queryId, text }];
    });
  }
}
