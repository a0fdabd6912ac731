@attack @security @NFR-USE-002
Feature: An attacker goes to step-ca directly with credentials that must be worth nothing
  The provisioning service is a front door, not the lock: step-ca asks the service's webhooks
  before it signs, whichever way a request came, and refuses when the service does not answer.

  Background:
    Given a running lab
    And the service engineer has turned provisioning ON for the installation's addresses
    And an attacker on a white-listed address with a bootstrap credential of its own

  @FR-CA-003 @S002-REV-04 @S003-AUD-01 @needs:ca-log
  Scenario: A revoked bootstrap credential, directly at step-ca
    Given the service engineer revokes the attacker's bootstrap credential
    When the attacker trades its bootstrap credential for an operational certificate directly at step-ca
    Then the attack is refused with HTTP 403
    And step-ca logs "(bootstrap-revoked)"
    And the audit log records the refusal "bootstrap-revoked"

  @FR-CA-003 @needs:ca-keys @needs:ca-log
  Scenario: An expired bootstrap credential, directly at step-ca
    Given the attacker holds a bootstrap credential of the lab's bootstrap CA that expired an hour ago
    When the attacker trades its bootstrap credential for an operational certificate directly at step-ca
    Then the attack is refused with HTTP 401
    And step-ca logs "certificate has expired"

  @FR-PS-003 @FR-CA-002 @S000-CA-06 @needs:ca-log
  Scenario: A bootstrap certificate while the service is OFF, by ACME directly at the bootstrap CA
    Given the service engineer turns provisioning OFF
    When the attacker orders a bootstrap certificate for its own address by ACME directly at the bootstrap CA and answers its challenge
    Then the attack is refused with the ACME problem "urn:ietf:params:acme:error:unauthorized"
    And the bootstrap step-ca logs "(service-off)"
    And the audit log records the refusal "service-off"

  @FR-CA-002 @FR-CA-003 @needs:restart-service @needs:ca-log
  Scenario: Nothing is issued while the provisioning service is down (step-ca fails closed)
    Given the provisioning service process is stopped
    When the attacker trades its bootstrap credential for an operational certificate directly at step-ca
    Then the attack is refused with HTTP 403
    And step-ca logs "connection refused"
    When the attacker orders a bootstrap certificate for its own address by ACME directly at the bootstrap CA and answers its challenge
    Then the attack is refused with the ACME problem "urn:ietf:params:acme:error:serverInternal"
    And the bootstrap step-ca logs "connection refused"

  @FR-CA-003 @needs:ca-log
  Scenario: A one-time token that step-ca already honoured is not honoured again
    Given the attacker captured the X5C token of its own successful request
    When the attacker sends the same token again with a new key directly at step-ca
    Then the attack is refused with HTTP 401
    And step-ca logs "token already used"
