// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * @title Confide — controller of the Confide network (Enigma-style).
 * @notice One contract for node identities and deposits, datasets and their committees, grants with
 * policies, query requests with fees, result commitments, penalties and an event audit log.
 * Data never comes here; only commitments do.
 *
 * Gas design: committees (≤ 16 node ids) and per-member partition roots are NOT stored; only
 * `membersHashAt[dataset][version] = keccak256(abi.encode(keccak256(abi.encodePacked(committee)),
 * keccak256(abi.encodePacked(partitionRoots))))` is. Functions that need the member list take it as
 * calldata (`Members`) and check it against that hash. The full lists are in the `DatasetRegistered` /
 * `DatasetReshared` events.
 *
 * Money: every payout (fees, refunds, slashing rewards, returned deposits) is credited to
 * `credits[account]` and pulled with `withdraw()` (checks-effects-interactions + reentrancy guard).
 *
 * Signatures by node keys are plain secp256k1 signatures over keccak256 digests (no EIP-191 prefix),
 * domain-separated by a tag, the chain id and this contract's address (see the *_TAG constants), so
 * `ecrecover` yields the node key's Ethereum address.
 */
contract Confide {
    // ───────────────────────────── constants ─────────────────────────────
    /// Largest committee. Every loop in this contract is bounded by it.
    uint256 public constant MAX_COMMITTEE = 16;
    /// secp256k1 field prime and half the group order (signature malleability bound).
    uint256 private constant P = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEFFFFFC2F;
    uint256 private constant HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0;
    uint256 private constant BPS = 10_000;

    bytes32 public constant REGISTER_TAG = keccak256("Confide.register.v1");
    bytes32 public constant OP_TAG = keccak256("Confide.op.v1");
    bytes32 public constant SHARE_TAG = keccak256("Confide.resultShare.v1");
    bytes32 public constant RESHARE_TAG = keccak256("Confide.reshare.v1");

    // ───────────────────────────── types ─────────────────────────────
    enum NodeStatus {
        None,
        Active,
        Leaving,
        Exited,
        Slashed
    }

    enum QueryStatus {
        None,
        Requested,
        Running,
        Completed,
        Refunded
    }

    enum SlashKind {
        Equivocation,
        BadResultShare
    }

    /// A node's id is the address of the key it registered with; `keyAddr` is its current key.
    struct Node {
        address operator;
        NodeStatus status;
        uint8 keyPrefix; // 0x02 / 0x03 of the compressed key
        uint64 leaveAt;
        address keyAddr;
        uint96 deposit;
        bytes32 keyX;
    }

    struct Dataset {
        address owner;
        uint8 threshold;
        uint8 size;
        uint32 version;
        uint48 rowCount;
        bytes32 schemaHash;
    }

    /// A dataset version's members as calldata: the committee and keccak256(abi.encodePacked(roots)).
    struct Members {
        address[] committee;
        bytes32 partitionsHash;
    }

    /// What honest members of a slashed node's committee can pull (bit i: committee position i).
    struct SlashPool {
        uint96 perMember;
        uint16 honest;
        uint16 claimed;
        bytes16 membersHash; // first 16 bytes of the members hash the bits refer to (one slot)
    }

    struct Grant {
        uint32 kinds; // bit k set: query kind k allowed (k = index in the query layer's QUERY_KINDS)
        uint32 minCohort;
        uint32 budget; // queries left
        uint32 used;
        uint64 expiry; // unix seconds, exclusive
        uint32 nonce; // bumped by every grant; queries remember it
        bool active;
    }

    struct Query {
        address researcher;
        QueryStatus status;
        uint32 kinds; // query kinds the query uses (bit positions as in the grant's `kinds`)
        uint8 postCount;
        uint32 version;
        uint64 deadline;
        uint96 fee;
        uint8 threshold;
        uint8 size;
        uint8 encKeyPrefix;
        uint32 grantNonce;
        bytes32 datasetId;
        bytes32 queryHash;
        bytes32 encKeyX;
    }

    // ───────────────────────────── errors ─────────────────────────────
    error InsufficientDeposit(uint256 sent, uint256 required);
    error AmountTooLarge(uint256 amount);
    error InvalidPublicKey();
    error InvalidSignature();
    error KeyAlreadyRegistered(address keyAddr);
    error UnknownNode(address nodeId);
    error NotNodeOperator(address nodeId, address caller);
    error NodeNotActive(address nodeId);
    error LeaveNotReady(address nodeId, uint64 availableAt);
    error InvalidCommitteeSize(uint256 size);
    error InvalidThreshold(uint256 threshold, uint256 size);
    error DuplicateMember(uint256 index);
    error SignersNotIncreasing(uint256 index);
    error LengthMismatch(uint256 committee, uint256 roots);
    error InvalidRowCount();
    error UnknownDataset(bytes32 datasetId);
    error DatasetExists(bytes32 datasetId);
    error NotDatasetOwner(bytes32 datasetId, address caller);
    error CommitteeMismatch(bytes32 datasetId, uint32 version);
    error NotEnoughSignatures(uint256 valid, uint256 needed);
    error InvalidPolicy();
    error NoActiveGrant(bytes32 datasetId, address researcher);
    error GrantExpired(bytes32 datasetId, address researcher, uint64 expiry);
    error BudgetExhausted(bytes32 datasetId, address researcher);
    error QueryKindNotAllowed(uint32 disallowed);
    error FeeTooLow(uint256 sent, uint256 minimum);
    error UnknownQuery(uint256 queryId);
    error QueryNotOpen(uint256 queryId, QueryStatus status);
    error DeadlinePassed(uint256 queryId, uint64 deadline);
    error NotCommitteeMember(uint256 queryId, uint256 index, address nodeId);
    error NotNodeSender(address nodeId, address caller);
    error AlreadyPosted(uint256 queryId, address nodeId);
    error ZeroCommitment();
    error GrantNoLongerValid(uint256 queryId);
    error QueryNotCompleted(uint256 queryId);
    error NothingToClaim(uint256 queryId, address nodeId);
    error RefundNotAllowed(uint256 queryId);
    error FinalizeNotAllowed(uint256 queryId);
    error NoConflict();
    error SignerMismatch(address a, address b);
    error NotSlashable(address nodeId);
    error ShareMatchesCommitment(uint256 queryId, address nodeId);
    error NoResultPosted(uint256 queryId, address nodeId);
    error NoSlashReward(uint256 slashId, uint256 index);
    error SlashCommitteeMismatch(uint256 slashId);
    error NothingToWithdraw(address account);
    error TransferFailed(address to, uint256 amount);
    error Reentrancy();

    // ───────────────────────────── events (the audit log) ─────────────────────────────
    event NodeRegistered(address indexed nodeId, address indexed operator, bytes pubkey, uint256 deposit);
    event NodeKeyUpdated(address indexed nodeId, address indexed keyAddr, bytes pubkey);
    event NodeLeaveRequested(address indexed nodeId, uint64 availableAt);
    event NodeExited(address indexed nodeId, address indexed operator, uint256 deposit);
    event NodeSlashed(
        address indexed nodeId,
        address indexed reporter,
        uint256 indexed slashId,
        SlashKind kind,
        uint256 amount,
        uint256 reporterReward,
        uint256 perHonestMember,
        uint256 honestMembers
    );
    event DatasetRegistered(
        bytes32 indexed datasetId,
        address indexed owner,
        bytes32 schemaHash,
        uint48 rowCount,
        uint8 threshold,
        address[] committee,
        bytes32[] partitionRoots
    );
    event DatasetReshared(
        bytes32 indexed datasetId,
        uint32 version,
        uint8 threshold,
        address[] committee,
        bytes32[] partitionRoots,
        address by
    );
    event GrantIssued(
        bytes32 indexed datasetId,
        address indexed researcher,
        uint32 nonce,
        uint32 kinds,
        uint32 minCohort,
        uint32 budget,
        uint64 expiry
    );
    event GrantRevoked(bytes32 indexed datasetId, address indexed researcher, uint32 nonce);
    event QueryRequested(
        uint256 indexed queryId,
        bytes32 indexed datasetId,
        address indexed researcher,
        bytes32 queryHash,
        uint32 kinds,
        bytes encKey,
        uint256 fee,
        uint64 deadline
    );
    event ResultPosted(uint256 indexed queryId, address indexed nodeId, uint8 memberIndex, bytes32 commitment);
    event QueryCompleted(uint256 indexed queryId, uint8 postCount);
    event QueryRefunded(uint256 indexed queryId, address indexed researcher, uint256 amount);
    event FeeClaimed(uint256 indexed queryId, address indexed nodeId, address indexed operator, uint256 amount);
    event SlashRewardClaimed(uint256 indexed slashId, address indexed nodeId, address indexed operator, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);

    // ───────────────────────────── state ─────────────────────────────
    uint256 public immutable minDeposit;
    uint256 public immutable minFee;
    uint64 public immutable withdrawDelay;
    uint64 public immutable queryTimeout;
    uint16 public immutable reporterBps;

    mapping(address => Node) private nodes;
    /// Every key a node ever used → node id (never cleared, so old-key evidence still slashes).
    mapping(address => address) public nodeOfKey;
    mapping(bytes32 => Dataset) private datasets;
    mapping(bytes32 => mapping(uint32 => bytes32)) public membersHashAt;
    mapping(uint256 => SlashPool) public slashPools;
    mapping(bytes32 => mapping(address => Grant)) private grants;
    mapping(uint256 => Query) private queries;
    mapping(uint256 => mapping(address => bytes32)) public resultOf;
    mapping(uint256 => mapping(address => bool)) public feeClaimed;
    mapping(address => uint256) public credits;
    bytes32 private constant DATASET_ID_TAG = "confide/dataset/v1";
    uint64 public queryCount;
    uint64 public slashCount;

    bool private transient locked;

    modifier nonReentrant() {
        if (locked) revert Reentrancy();
        locked = true;
        _;
        locked = false;
    }

    constructor(uint256 minDeposit_, uint256 minFee_, uint64 withdrawDelay_, uint64 queryTimeout_, uint16 reporterBps_) {
        if (reporterBps_ > BPS || queryTimeout_ == 0) revert InvalidPolicy();
        minDeposit = minDeposit_;
        minFee = minFee_;
        withdrawDelay = withdrawDelay_;
        queryTimeout = queryTimeout_;
        reporterBps = reporterBps_;
    }

    // ───────────────────────────── nodes ─────────────────────────────

    /// Digest the node key signs to prove possession when registering (or rotating to) a key.
    function registrationDigest(address operator, address nodeId) public view returns (bytes32) {
        return keccak256(abi.encode(REGISTER_TAG, block.chainid, address(this), operator, nodeId));
    }

    /**
     * Register a node: `pubkey` is its 33-byte compressed secp256k1 key, `pop` the key's signature over
     * `registrationDigest(msg.sender, keyAddress)`. The node id is the key's address.
     */
    function registerNode(bytes calldata pubkey, bytes calldata pop) external payable returns (address nodeId) {
        if (msg.value < minDeposit) revert InsufficientDeposit(msg.value, minDeposit);
        if (msg.value > type(uint96).max) revert AmountTooLarge(msg.value);
        (bytes32 x, uint8 prefix, address keyAddr) = _decodePubkey(pubkey);
        if (nodeOfKey[keyAddr] != address(0)) revert KeyAlreadyRegistered(keyAddr);
        if (_recover(registrationDigest(msg.sender, keyAddr), pop) != keyAddr) revert InvalidSignature();
        nodeId = keyAddr;
        nodeOfKey[keyAddr] = nodeId;
        nodes[nodeId] = Node({
            operator: msg.sender,
            status: NodeStatus.Active,
            keyPrefix: prefix,
            leaveAt: 0,
            keyAddr: keyAddr,
            deposit: uint96(msg.value),
            keyX: x
        });
        emit NodeRegistered(nodeId, msg.sender, pubkey, msg.value);
    }

    /// Rotate an active node's key; the node id (and its committee seats) stay the same.
    function updateNodeKey(address nodeId, bytes calldata pubkey, bytes calldata pop) external {
        Node storage n = _operatedNode(nodeId);
        if (n.status != NodeStatus.Active) revert NodeNotActive(nodeId);
        (bytes32 x, uint8 prefix, address keyAddr) = _decodePubkey(pubkey);
        if (nodeOfKey[keyAddr] != address(0)) revert KeyAlreadyRegistered(keyAddr);
        if (_recover(registrationDigest(msg.sender, keyAddr), pop) != keyAddr) revert InvalidSignature();
        nodeOfKey[keyAddr] = nodeId;
        n.keyAddr = keyAddr;
        n.keyX = x;
        n.keyPrefix = prefix;
        emit NodeKeyUpdated(nodeId, keyAddr, pubkey);
    }

    /// Start leaving: the deposit stays slashable for `withdrawDelay` seconds.
    function requestLeave(address nodeId) external {
        Node storage n = _operatedNode(nodeId);
        if (n.status != NodeStatus.Active) revert NodeNotActive(nodeId);
        uint64 availableAt = uint64(block.timestamp) + withdrawDelay;
        n.status = NodeStatus.Leaving;
        n.leaveAt = availableAt;
        emit NodeLeaveRequested(nodeId, availableAt);
    }

    /// After the delay, credit the deposit back to the operator.
    function exitNode(address nodeId) external {
        Node storage n = _operatedNode(nodeId);
        if (n.status != NodeStatus.Leaving) revert NodeNotActive(nodeId);
        if (block.timestamp < n.leaveAt) revert LeaveNotReady(nodeId, n.leaveAt);
        uint256 amount = n.deposit;
        n.deposit = 0;
        n.status = NodeStatus.Exited;
        credits[n.operator] += amount;
        emit NodeExited(nodeId, n.operator, amount);
    }

    /// True iff `keyAddr` is the current key of an active node (what the mesh accepts as a peer).
    function isActiveNodeKey(address keyAddr) external view returns (bool) {
        address id = nodeOfKey[keyAddr];
        if (id == address(0)) return false;
        Node storage n = nodes[id];
        return n.status == NodeStatus.Active && n.keyAddr == keyAddr;
    }

    /// The node's current compressed public key (33 bytes), empty if unknown.
    function nodePublicKey(address nodeId) external view returns (bytes memory) {
        Node storage n = nodes[nodeId];
        if (n.status == NodeStatus.None) return "";
        return abi.encodePacked(n.keyPrefix, n.keyX);
    }

    // ───────────────────────────── datasets ─────────────────────────────

    /// Dataset id bound to its owner: sha256("confide/dataset/v1" ‖ owner ‖ salt) — the same id the
    /// storage layer derives (`deriveDatasetId`) for DHT placement before registration.
    function datasetIdFor(address owner, bytes calldata salt) public pure returns (bytes32) {
        return sha256(abi.encodePacked(bytes18(DATASET_ID_TAG), owner, salt));
    }

    function registerDataset(
        bytes calldata salt,
        bytes32 schemaHash,
        uint48 rowCount,
        uint8 threshold,
        address[] calldata committee,
        bytes32[] calldata partitionRoots
    ) external returns (bytes32 datasetId) {
        if (rowCount == 0) revert InvalidRowCount();
        datasetId = datasetIdFor(msg.sender, salt);
        if (datasets[datasetId].owner != address(0)) revert DatasetExists(datasetId);
        bytes32 cHash = _checkNewCommittee(threshold, committee, partitionRoots);
        datasets[datasetId] = Dataset({
            owner: msg.sender,
            threshold: threshold,
            size: uint8(committee.length),
            version: 1,
            rowCount: rowCount,
            schemaHash: schemaHash
        });
        membersHashAt[datasetId][1] = keccak256(abi.encode(cHash, keccak256(abi.encodePacked(partitionRoots))));
        emit DatasetRegistered(datasetId, msg.sender, schemaHash, rowCount, threshold, committee, partitionRoots);
    }

    /// Digest that t+1 current committee members sign to re-share without the owner.
    function reshareDigest(
        bytes32 datasetId,
        uint32 fromVersion,
        uint8 threshold,
        address[] calldata committee,
        bytes32[] calldata partitionRoots
    ) public view returns (bytes32) {
        return
            keccak256(
                abi.encode(
                    RESHARE_TAG,
                    block.chainid,
                    address(this),
                    datasetId,
                    fromVersion,
                    threshold,
                    keccak256(abi.encodePacked(committee)),
                    keccak256(abi.encodePacked(partitionRoots))
                )
            );
    }

    /// t+1 signatures of current committee members (positions strictly increasing in the committee).
    struct CommitteeApproval {
        Members members;
        uint8[] signerIndexes;
        bytes[] signatures;
    }

    /**
     * Move a dataset to a new committee / partition commitments and bump its version.
     * Rule: the owner may always re-share; anyone else needs `approval`: at least t+1 members of the
     * *current* committee signing `reshareDigest(...)` with their current node keys.
     */
    function reshare(
        bytes32 datasetId,
        uint8 threshold,
        address[] calldata committee,
        bytes32[] calldata partitionRoots,
        CommitteeApproval calldata approval
    ) external {
        Dataset storage d = _dataset(datasetId);
        uint32 version = d.version;
        if (msg.sender != d.owner) {
            _checkApproval(datasetId, d, reshareDigest(datasetId, version, threshold, committee, partitionRoots), approval);
        }
        bytes32 cHash = _checkNewCommittee(threshold, committee, partitionRoots);
        version += 1;
        d.version = version;
        d.threshold = threshold;
        d.size = uint8(committee.length);
        membersHashAt[datasetId][version] = keccak256(abi.encode(cHash, keccak256(abi.encodePacked(partitionRoots))));
        emit DatasetReshared(datasetId, version, threshold, committee, partitionRoots, msg.sender);
    }

    function _checkApproval(
        bytes32 datasetId,
        Dataset storage d,
        bytes32 digest,
        CommitteeApproval calldata a
    ) private view {
        _checkCommittee(datasetId, d.version, a.members);
        address[] calldata committee = a.members.committee;
        uint256 count = a.signerIndexes.length;
        if (count != a.signatures.length) revert LengthMismatch(count, a.signatures.length);
        uint256 needed = uint256(d.threshold) + 1;
        if (count < needed) revert NotEnoughSignatures(count, needed);
        uint256 prev;
        for (uint256 i; i < count && i < MAX_COMMITTEE; ++i) {
            uint256 idx = a.signerIndexes[i];
            if ((i > 0 && idx <= prev) || idx >= committee.length) revert SignersNotIncreasing(i);
            prev = idx;
            if (_recover(digest, a.signatures[i]) != nodes[committee[idx]].keyAddr) revert InvalidSignature();
        }
    }

    // ───────────────────────────── grants ─────────────────────────────

    function grant(
        bytes32 datasetId,
        address researcher,
        uint32 kinds,
        uint32 minCohort,
        uint32 budget,
        uint64 expiry
    ) external {
        Dataset storage d = _dataset(datasetId);
        if (msg.sender != d.owner) revert NotDatasetOwner(datasetId, msg.sender);
        if (kinds == 0 || budget == 0 || expiry <= block.timestamp || researcher == address(0)) revert InvalidPolicy();
        Grant storage g = grants[datasetId][researcher];
        uint32 nonce = g.nonce + 1;
        grants[datasetId][researcher] = Grant({
            kinds: kinds,
            minCohort: minCohort,
            budget: budget,
            used: 0,
            expiry: expiry,
            nonce: nonce,
            active: true
        });
        emit GrantIssued(datasetId, researcher, nonce, kinds, minCohort, budget, expiry);
    }

    /// Revoke: every query of this grant that has not started yet (no result posted) becomes void.
    function revoke(bytes32 datasetId, address researcher) external {
        Dataset storage d = _dataset(datasetId);
        if (msg.sender != d.owner) revert NotDatasetOwner(datasetId, msg.sender);
        Grant storage g = grants[datasetId][researcher];
        if (!g.active) revert NoActiveGrant(datasetId, researcher);
        g.active = false;
        emit GrantRevoked(datasetId, researcher, g.nonce);
    }

    // ───────────────────────────── queries ─────────────────────────────

    /// Request a query; `msg.value` is the fee, `kinds` the bitmask of query kinds it uses (all must be
    /// allowed by the grant), `encKey` the researcher's 33-byte compressed result-encryption key.
    function requestQuery(
        bytes32 datasetId,
        bytes32 queryHash,
        uint32 kinds,
        bytes calldata encKey
    ) external payable returns (uint256 queryId) {
        Dataset storage d = _dataset(datasetId);
        if (msg.value < minFee) revert FeeTooLow(msg.value, minFee);
        if (msg.value > type(uint96).max) revert AmountTooLarge(msg.value);
        if (encKey.length != 33 || (encKey[0] != 0x02 && encKey[0] != 0x03)) revert InvalidPublicKey();
        Grant storage g = grants[datasetId][msg.sender];
        if (!g.active) revert NoActiveGrant(datasetId, msg.sender);
        if (block.timestamp >= g.expiry) revert GrantExpired(datasetId, msg.sender, g.expiry);
        if (g.budget == 0) revert BudgetExhausted(datasetId, msg.sender);
        if (kinds == 0 || kinds & ~g.kinds != 0) revert QueryKindNotAllowed(kinds & ~g.kinds);
        unchecked {
            g.budget -= 1;
            g.used += 1;
        }
        queryId = ++queryCount;
        uint64 deadline = uint64(block.timestamp) + queryTimeout;
        queries[queryId] = Query({
            researcher: msg.sender,
            status: QueryStatus.Requested,
            kinds: kinds,
            postCount: 0,
            grantNonce: g.nonce,
            version: d.version,
            encKeyPrefix: uint8(encKey[0]),
            deadline: deadline,
            fee: uint96(msg.value),
            threshold: d.threshold,
            size: d.size,
            datasetId: datasetId,
            queryHash: queryHash,
            encKeyX: bytes32(encKey[1:33])
        });
        emit QueryRequested(queryId, datasetId, msg.sender, queryHash, kinds, encKey, msg.value, deadline);
    }

    /**
     * A committee member (sent by its node key or its operator) posts the commitment to its result
     * share. The first post starts the query; revocation/expiry of the grant voids a query not started.
     */
    function postResult(uint256 queryId, Members calldata m, uint8 index, bytes32 commitment) external {
        Query storage q = _query(queryId);
        QueryStatus st = q.status;
        if (st != QueryStatus.Requested && st != QueryStatus.Running) revert QueryNotOpen(queryId, st);
        if (block.timestamp > q.deadline) revert DeadlinePassed(queryId, q.deadline);
        if (commitment == bytes32(0)) revert ZeroCommitment();
        // The committee the query was requested on, or the dataset's current one: a query that a
        // member's departure interrupted completes on the committee its data was re-shared to.
        uint32 current = datasets[q.datasetId].version;
        if (current == q.version || !_committeeIs(q.datasetId, current, m)) _checkCommittee(q.datasetId, q.version, m);
        if (index >= m.committee.length) revert NotCommitteeMember(queryId, index, address(0));
        address nodeId = m.committee[index];
        Node storage n = nodes[nodeId];
        if (n.status != NodeStatus.Active && n.status != NodeStatus.Leaving) revert NodeNotActive(nodeId);
        if (msg.sender != n.keyAddr && msg.sender != n.operator) revert NotNodeSender(nodeId, msg.sender);
        if (resultOf[queryId][nodeId] != bytes32(0)) revert AlreadyPosted(queryId, nodeId);
        if (st == QueryStatus.Requested) {
            if (!_grantValid(q)) revert GrantNoLongerValid(queryId);
            q.status = QueryStatus.Running;
        }
        resultOf[queryId][nodeId] = commitment;
        uint8 count = q.postCount + 1;
        q.postCount = count;
        emit ResultPosted(queryId, nodeId, index, commitment);
        if (count == q.size) _complete(queryId, q);
    }

    /// After the deadline, a running query with at least t+1 results completes.
    function finalize(uint256 queryId) external {
        Query storage q = _query(queryId);
        if (q.status != QueryStatus.Running || block.timestamp <= q.deadline || q.postCount < uint256(q.threshold) + 1)
            revert FinalizeNotAllowed(queryId);
        _complete(queryId, q);
    }

    /**
     * Refund the fee to the researcher when the committee failed (deadline passed with fewer than t+1
     * results) or when the query never started and its grant is no longer valid (revoked / expired).
     */
    function refund(uint256 queryId) external nonReentrant {
        Query storage q = _query(queryId);
        QueryStatus st = q.status;
        if (st != QueryStatus.Requested && st != QueryStatus.Running) revert RefundNotAllowed(queryId);
        bool failed = block.timestamp > q.deadline && q.postCount < uint256(q.threshold) + 1;
        bool voided = st == QueryStatus.Requested && !_grantValid(q);
        if (!failed && !voided) revert RefundNotAllowed(queryId);
        q.status = QueryStatus.Refunded;
        uint256 amount = q.fee;
        credits[q.researcher] += amount;
        emit QueryRefunded(queryId, q.researcher, amount);
    }

    /// Credit a member's share of a completed query's fee to its operator.
    function claimFee(uint256 queryId, address nodeId) external nonReentrant {
        Query storage q = _query(queryId);
        if (q.status != QueryStatus.Completed) revert QueryNotCompleted(queryId);
        if (resultOf[queryId][nodeId] == bytes32(0) || feeClaimed[queryId][nodeId]) revert NothingToClaim(queryId, nodeId);
        feeClaimed[queryId][nodeId] = true;
        uint256 amount = uint256(q.fee) / q.postCount;
        address op = nodes[nodeId].operator;
        credits[op] += amount;
        emit FeeClaimed(queryId, nodeId, op, amount);
    }

    /**
     * Why a node may or may not compute `queryId` now: 0 = authorised; 1 unknown query; 2 not open
     * (completed/refunded); 3 deadline passed; 4 grant revoked, re-issued or expired before start.
     */
    function authorisation(uint256 queryId) external view returns (uint8) {
        Query storage q = queries[queryId];
        if (q.status == QueryStatus.None) return 1;
        if (q.status != QueryStatus.Requested && q.status != QueryStatus.Running) return 2;
        if (block.timestamp > q.deadline) return 3;
        if (q.status == QueryStatus.Requested && !_grantValid(q)) return 4;
        return 0;
    }

    // ───────────────────────────── penalties ─────────────────────────────

    /// Digest a node key signs for every protocol message (the mesh's signed envelope).
    function opDigest(
        bytes32 datasetId,
        uint32 version,
        bytes32 session,
        bytes32 opId,
        bytes32 payloadHash
    ) public view returns (bytes32) {
        return keccak256(abi.encode(OP_TAG, block.chainid, address(this), datasetId, version, session, opId, payloadHash));
    }

    /// Digest a node key signs over its result share for a query (the share is sent to the researcher).
    function shareDigest(uint256 queryId, bytes32 shareHash) public view returns (bytes32) {
        return keccak256(abi.encode(SHARE_TAG, block.chainid, address(this), queryId, shareHash));
    }

    /// Two protocol messages signed by one node key for the same (dataset, version, session, op).
    struct OpEvidence {
        bytes32 datasetId;
        uint32 version;
        bytes32 session;
        bytes32 opId;
        bytes32 payloadA;
        bytes sigA;
        bytes32 payloadB;
        bytes sigB;
    }

    /// Evidence: two different payloads signed by the same node key for one operation.
    function slashEquivocation(OpEvidence calldata e, Members calldata m) external nonReentrant {
        if (e.payloadA == e.payloadB) revert NoConflict();
        address a = _recover(opDigest(e.datasetId, e.version, e.session, e.opId, e.payloadA), e.sigA);
        address b = _recover(opDigest(e.datasetId, e.version, e.session, e.opId, e.payloadB), e.sigB);
        if (a != b) revert SignerMismatch(a, b);
        address nodeId = nodeOfKey[a];
        if (nodeId == address(0)) revert UnknownNode(a);
        _slash(nodeId, SlashKind.Equivocation, e.datasetId, e.version, m);
    }

    /// Evidence: a result share the node signed whose hash differs from the commitment it posted.
    function slashBadResult(
        uint256 queryId,
        bytes calldata share,
        bytes calldata sig,
        Members calldata m
    ) external nonReentrant {
        Query storage q = _query(queryId);
        bytes32 h = keccak256(share);
        address signer = _recover(shareDigest(queryId, h), sig);
        address nodeId = nodeOfKey[signer];
        if (nodeId == address(0)) revert UnknownNode(signer);
        bytes32 c = resultOf[queryId][nodeId];
        if (c == bytes32(0)) revert NoResultPosted(queryId, nodeId);
        if (c == h) revert ShareMatchesCommitment(queryId, nodeId);
        _slash(nodeId, SlashKind.BadResultShare, q.datasetId, q.version, m);
    }

    // ───────────────────────────── payouts ─────────────────────────────

    /// Pull everything credited to the caller.
    function withdraw() external nonReentrant {
        uint256 amount = credits[msg.sender];
        if (amount == 0) revert NothingToWithdraw(msg.sender);
        credits[msg.sender] = 0;
        emit Withdrawn(msg.sender, amount);
        (bool ok, ) = msg.sender.call{value: amount}("");
        if (!ok) revert TransferFailed(msg.sender, amount);
    }

    // ───────────────────────────── views ─────────────────────────────

    function getNode(address nodeId) external view returns (Node memory) {
        return nodes[nodeId];
    }

    function getDataset(bytes32 datasetId) external view returns (Dataset memory) {
        return datasets[datasetId];
    }

    function getGrant(bytes32 datasetId, address researcher) external view returns (Grant memory) {
        return grants[datasetId][researcher];
    }

    function getQuery(uint256 queryId) external view returns (Query memory) {
        return queries[queryId];
    }

    // ───────────────────────────── internals ─────────────────────────────

    function _complete(uint256 queryId, Query storage q) private {
        q.status = QueryStatus.Completed;
        uint256 rest = uint256(q.fee) % q.postCount;
        if (rest != 0) credits[q.researcher] += rest;
        emit QueryCompleted(queryId, q.postCount);
    }

    function _grantValid(Query storage q) private view returns (bool) {
        Grant storage g = grants[q.datasetId][q.researcher];
        return g.active && g.nonce == q.grantNonce && block.timestamp < g.expiry;
    }

    function _slash(
        address nodeId,
        SlashKind kind,
        bytes32 datasetId,
        uint32 version,
        Members calldata m
    ) private {
        Node storage n = nodes[nodeId];
        if ((n.status != NodeStatus.Active && n.status != NodeStatus.Leaving) || n.deposit == 0) revert NotSlashable(nodeId);
        _checkCommittee(datasetId, version, m);
        uint256 amount = n.deposit;
        n.deposit = 0;
        n.status = NodeStatus.Slashed;
        // Honest members: the other members still live (active or leaving) — a bitmap over ≤ 16 seats.
        uint16 bits;
        uint256 honest;
        for (uint256 i; i < m.committee.length; ++i) {
            address member = m.committee[i];
            if (member != nodeId && _live(nodes[member].status)) {
                bits |= uint16(1 << i);
                ++honest;
            }
        }
        uint256 per = honest == 0 ? 0 : (amount - (amount * reporterBps) / BPS) / honest;
        uint256 slashId = ++slashCount;
        if (honest != 0) {
            slashPools[slashId] = SlashPool({perMember: uint96(per), honest: bits, claimed: 0, membersHash: bytes16(membersHashAt[datasetId][version])});
        }
        credits[msg.sender] += amount - per * honest;
        emit NodeSlashed(nodeId, msg.sender, slashId, kind, amount, amount - per * honest, per, honest);
    }

    /// An honest member's share of a slashed deposit, credited to its operator (anyone may call).
    function claimSlashReward(uint256 slashId, Members calldata m, uint8 index) external nonReentrant {
        SlashPool storage p = slashPools[slashId];
        if (index >= MAX_COMMITTEE) revert NoSlashReward(slashId, index);
        uint16 bit = uint16(1 << index);
        if (p.honest & bit == 0 || p.claimed & bit != 0) revert NoSlashReward(slashId, index);
        if (m.committee.length == 0 || bytes16(membersHash(m.committee, m.partitionsHash)) != p.membersHash)
            revert SlashCommitteeMismatch(slashId);
        p.claimed |= bit;
        address nodeId = m.committee[index];
        address op = nodes[nodeId].operator;
        credits[op] += p.perMember;
        emit SlashRewardClaimed(slashId, nodeId, op, p.perMember);
    }

    function _live(NodeStatus s) private pure returns (bool) {
        return s == NodeStatus.Active || s == NodeStatus.Leaving;
    }

    function _operatedNode(address nodeId) private view returns (Node storage n) {
        n = nodes[nodeId];
        if (n.status == NodeStatus.None) revert UnknownNode(nodeId);
        if (n.operator != msg.sender) revert NotNodeOperator(nodeId, msg.sender);
    }

    function _dataset(bytes32 datasetId) private view returns (Dataset storage d) {
        d = datasets[datasetId];
        if (d.owner == address(0)) revert UnknownDataset(datasetId);
    }

    function _query(uint256 queryId) private view returns (Query storage q) {
        q = queries[queryId];
        if (q.status == QueryStatus.None) revert UnknownQuery(queryId);
    }

    function _committeeIs(bytes32 datasetId, uint32 version, Members calldata m) private view returns (bool) {
        return m.committee.length != 0 && membersHash(m.committee, m.partitionsHash) == membersHashAt[datasetId][version];
    }

    function _checkCommittee(bytes32 datasetId, uint32 version, Members calldata m) private view {
        if (!_committeeIs(datasetId, version, m)) revert CommitteeMismatch(datasetId, version);
    }

    /// keccak256(abi.encode(keccak256(abi.encodePacked(committee)), partitionsHash)).
    function membersHash(address[] calldata committee, bytes32 partitionsHash) public pure returns (bytes32) {
        return keccak256(abi.encode(keccak256(abi.encodePacked(committee)), partitionsHash));
    }

    /// New committee: 1..16 distinct active nodes, t ≥ 1 and 2t < n. The order is the member order
    /// (member i holds the shares evaluated at x = i + 1); it is kept as given.
    function _checkNewCommittee(
        uint8 threshold,
        address[] calldata committee,
        bytes32[] calldata roots
    ) private view returns (bytes32) {
        uint256 size = committee.length;
        if (size == 0 || size > MAX_COMMITTEE) revert InvalidCommitteeSize(size);
        if (roots.length != size) revert LengthMismatch(size, roots.length);
        if (threshold == 0 || 2 * uint256(threshold) >= size) revert InvalidThreshold(threshold, size);
        // Distinctness in O(n) expected: a 256-bit filter on the low address byte, and a pairwise
        // scan only for members whose bit is already set.
        uint256 seen;
        for (uint256 i; i < size; ) {
            address m = committee[i];
            uint256 bit = 1 << (uint160(m) & 0xff);
            if (seen & bit != 0) {
                for (uint256 j; j < i; ) {
                    if (committee[j] == m) revert DuplicateMember(i);
                    unchecked {
                        ++j;
                    }
                }
            }
            seen |= bit;
            if (nodes[m].status != NodeStatus.Active) revert NodeNotActive(m);
            unchecked {
                ++i;
            }
        }
        return keccak256(abi.encodePacked(committee));
    }

    /// Decompress a 33-byte secp256k1 key (modexp precompile) and return (x, prefix, address).
    function _decodePubkey(bytes calldata pubkey) private view returns (bytes32 x, uint8 prefix, address addr) {
        if (pubkey.length != 33) revert InvalidPublicKey();
        prefix = uint8(pubkey[0]);
        if (prefix != 2 && prefix != 3) revert InvalidPublicKey();
        x = bytes32(pubkey[1:33]);
        uint256 xi = uint256(x);
        if (xi >= P) revert InvalidPublicKey();
        uint256 rhs = addmod(mulmod(mulmod(xi, xi, P), xi, P), 7, P);
        (bool ok, bytes memory out) = address(0x05).staticcall(abi.encode(32, 32, 32, rhs, (P + 1) / 4, P));
        if (!ok) revert InvalidPublicKey();
        uint256 y = abi.decode(out, (uint256));
        if (mulmod(y, y, P) != rhs) revert InvalidPublicKey();
        if ((y & 1) != (prefix & 1)) y = P - y;
        addr = address(uint160(uint256(keccak256(abi.encodePacked(xi, y)))));
    }

    /// ecrecover over a 65-byte (r, s, v) signature; rejects malformed and high-s signatures.
    function _recover(bytes32 digest, bytes calldata sig) private pure returns (address signer) {
        if (sig.length != 65) revert InvalidSignature();
        bytes32 r = bytes32(sig[0:32]);
        bytes32 s = bytes32(sig[32:64]);
        uint8 v = uint8(sig[64]);
        if (v < 27) v += 27;
        if ((v != 27 && v != 28) || uint256(s) > HALF_N) revert InvalidSignature();
        signer = ecrecover(digest, v, r, s);
        if (signer == address(0)) revert InvalidSignature();
    }
}
