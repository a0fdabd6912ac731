@attack @security @NFR-USE-002
Feature: An attacker tries to get or use an identity another device holds
  An identity is bound to the bootstrap credential that first bought it (or the one the engineer
  named for its address); it is never issued on another credential. A bootstrap credential buys
  one identity, and the broker gives every connection its certificate's identity as client id.

  Background:
    Given a running lab
    And the service engineer has turned provisioning ON for the installation's addresses
    And the application server is provisioned
    And a victim device connected to the broker
    And an attacker on a white-listed address with a bootstrap credential of its own

  @FR-CA-003 @S003-ID-01 @needs:ca-log
  Scenario Outline: X5C for the victim's identity with the attacker's bootstrap credential, <where>
    When the attacker trades its bootstrap credential for the victim's identity <where>
    Then the attack is refused with HTTP 403
    And step-ca logs "(identity-taken)"
    And the audit log records the refusal "identity-taken"
    And no certificate for the victim's identity was issued during the attack

    Examples:
      | where                            |
      | through the provisioning service |
      | directly at step-ca              |

  @FR-PS-004 @S003-ID-01
  Scenario: A CSR naming the victim's identity on the plain-HTTP bootstrap endpoint
    When the attacker sends a CSR named after the victim to the bootstrap endpoint
    Then the attack is refused with HTTP 403 and the code "identity-taken"
    And the audit log records the refusal "identity-taken"
    And no certificate for the victim's identity was issued during the attack

  @FR-CA-003 @S003-ID-01 @needs:ca-log
  Scenario: One bootstrap credential buys one identity
    Given the attacker holds an operational certificate for its own identity
    When the attacker trades the same bootstrap credential for a second identity "RVS-SECOND" directly at step-ca
    Then the attack is refused with HTTP 403
    And step-ca logs "(credential-bound)"
    And the audit log records the refusal "credential-bound"

  @FR-CA-003 @needs:ca-log
  Scenario: An operational certificate offered as the X5C credential mints nothing
    When the attacker offers the victim's stolen operational certificate and key as the X5C credential directly at step-ca
    Then the attack is refused with HTTP 401
    And step-ca logs "error verifying x5c certificate chain in token"

  @FR-MB-002 @S003-ID-01 @needs:broker-log
  Scenario: A connection with the victim's client id gets the attacker's own identity, not the victim's session
    Given the attacker holds an operational certificate for its own identity
    And the victim has a persistent session with commands queued while it is offline
    When the attacker connects with the victim's client id and a persistent session
    Then the broker logs the attacker's connection under the attacker's own identity
    And the attacker receives none of the victim's queued commands
    And the victim reconnects and receives its queued commands
