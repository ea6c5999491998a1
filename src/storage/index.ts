/**
 * Storage / DHT layer: share store, placement, upload intake, bundles, receipts, re-sharing.
 * Browser-safe: the on-disk Node store is imported separately from `src/storage/fs-store`.
 * See docs/storage.md.
 */
export {
  StorageError,
  isStorageError,
  type StorageErrorCode,
  type StorageErrorDetails,
} from './errors';
export {
  ChunkedShareStore,
  DEFAULT_CHUNK_SIZE,
  FIELD_P,
  manifestRoot,
  type ChunkMeta,
  type ColumnManifest,
  type PartitionHeader,
  type PartitionInput,
  type PartitionManifest,
  type ShareStore,
  type StagedColumn,
  type VerifyReport,
} from './store';
export { IdbShareStore, DEFAULT_IDB_NAME } from './idb-store';
export {
  merkleRoot,
  merkleRootOfHashes,
  merkleProof,
  verifyMerkleProof,
  chunkLeaf,
  leafHash,
} from './merkle';
export {
  nodeIdFromPublicKey,
  deriveDatasetId,
  xorDistance,
  compareDistance,
  commonPrefixBits,
  closestNodes,
  selectCommittee,
  replaceMember,
  churnCommittee,
  departedMembers,
  responsibleDatasets,
  datasetsNear,
  type Committee,
  type CommitteeParams,
  type DirectoryEntry,
  type Id256,
} from './placement';
export {
  parseCsv,
  readCsvFile,
  decodeCsvBytes,
  DEFAULT_CSV_LIMITS,
  type CsvLimits,
  type ParsedCsv,
  type RowError,
  type RowErrorCode,
} from './csv';
export {
  inferSchema,
  checkSchema,
  validateAndEncode,
  acceptValidation,
  describeRowError,
  schemaHash,
  canonicalSchema,
  encodeSigned,
  decodeSigned,
  type AcceptedDataset,
  type ColumnInference,
  type ColumnSchema,
  type ColumnType,
  type DatasetSchema,
  type EncodedColumn,
  type ValidationReport,
} from './schema';
export {
  sealShareBundle,
  openShareBundle,
  openShareBundleStream,
  peekBundleHeader,
  type OpenedBundleInfo,
  type BundleContext,
  type ShareBundle,
} from './bundle';
export {
  signReceipt,
  verifyReceipt,
  receiptDigest,
  nodeAddress,
  type Receipt,
  type ReceiptFields,
} from './receipt';
export {
  shareAndSeal,
  uploadDataset,
  acceptShareBundle,
  collectReceipts,
  newNodeKey,
  publicKeyFromHex,
  type UploadMember,
  type UploadTarget,
  type UploadProgress,
  type SealedForMember,
} from './upload';
export {
  reshareDeal,
  reshareCombine,
  reshareDealMasked,
  reshareCheckValue,
  reshareVerify,
  withoutMask,
  checkPlan,
  type ResharePlan,
  type ReshareVerdict,
} from './reshare';
export {
  nodeDuties,
  nextChurnStep,
  type Duties,
  type ChurnStep,
  type RecordedCommittee,
} from './duties';
