// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/**
 * Test-only malicious account: forwards arbitrary calls (so it can act as operator, researcher or
 * reporter) and, when it receives ETH, tries to re-enter the target (by default `withdraw()`).
 * It records whether the re-entry succeeded instead of reverting, so the outer payout still lands.
 */
contract ReentrantReceiver {
    address public target;
    bytes public reentryCall;
    uint256 public attempts;
    uint256 public successes;
    bytes public lastRevert;
    bool public rejectPayments;

    constructor(address target_) {
        target = target_;
        reentryCall = abi.encodeWithSignature("withdraw()");
    }

    function setReentryCall(bytes calldata data) external {
        reentryCall = data;
    }

    function setRejectPayments(bool reject) external {
        rejectPayments = reject;
    }

    function forward(bytes calldata data) external payable returns (bytes memory) {
        (bool ok, bytes memory ret) = target.call{value: msg.value}(data);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
        return ret;
    }

    receive() external payable {
        if (rejectPayments) revert("payments rejected");
        attempts += 1;
        (bool ok, bytes memory ret) = target.call(reentryCall);
        if (ok) successes += 1;
        else lastRevert = ret;
    }
}
