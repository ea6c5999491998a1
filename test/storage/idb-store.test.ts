// Unit tests only: fake-indexeddb stands in for the browser's IndexedDB. The same behaviour is
// checked against real Chromium IndexedDB in e2e/storage.spec.ts.
import 'fake-indexeddb/auto';
import { openDB } from 'idb';
import { corruptChunkForTest, IdbShareStore } from '../../src/storage/idb-store';
import { shareStoreSuite } from './store-suite';

const NAME = `confide-shares-unit-${Date.now()}`;

shareStoreSuite('IndexedDB (fake-indexeddb)', {
  open: () => IdbShareStore.open(NAME),
  corrupt: (ds, v, col, chunk) => corruptChunkForTest(NAME, ds, v, col, chunk, 5),
  drop: async (ds, v, col, chunk) => {
    const db = await openDB(NAME, 1);
    await db.delete('chunks', [ds, v, col, chunk]);
    db.close();
  },
});
