@uc04 @external-ca @UC-04 @S000-CA-10
Feature: UC-04 Revocation by an external CA
  The lab's issuing CA is a subordinate of an external ("paid") CA: a third party in its own
  process that holds the root's key, signs the lab's intermediate for a CSR of a key the lab's CA
  keeps, and publishes its CRL. The certificate management service (the provisioning service)
  watches that CRL. When the external CA revokes the intermediate, the service notices by itself,
  orders a new intermediate for a new key and has it installed for step-ca; the broker refuses
  every certificate of the old intermediate, and the application and the devices are re-issued
  at their next power-up with their bootstrap credentials, which the revocation does not touch:
  nobody needs the provisioning window again.

  Background:
    Given a lab whose issuing CA is a subordinate of an external CA, its CRL watched every 1 second
    And the service engineer has turned provisioning ON for the installation's addresses

  @FR-LA-002 @FR-MB-001 @S000-CA-01 @S000-APP-01 @S000-CA-14 @S002-REV-04 @S003-SVAL-04 @needs:own-lab @needs:broker-log
  Scenario: The external CA revokes the issuing intermediate; the service re-issues by itself
    Given the application server is provisioned
    And 2 devices are provisioned
    When the external CA revokes the lab's issuing intermediate
    Then the certificate management service notices within 20 seconds and installs a new intermediate
    And the broker refuses the old certificates with "certificate revoked"
    When the application and the devices power up again
    Then each of them finds its certificate "revoked" and re-acquires one under the new intermediate with its bootstrap credential
    And every device's telemetry reaches the application over mutual TLS

  @attack @needs:own-lab
  Scenario: A CRL not signed by the external root is ignored
    Given the application server is provisioned
    And 2 devices are provisioned
    When an impostor answers at the external CA's address with a CRL revoking the lab's intermediate, signed by a key of its own
    Then the service refuses that CRL as "crl-signature-invalid" and installs no new intermediate
    And the provisioned devices stay connected

  @attack @NFR-USE-002 @S003-AUD-01 @needs:own-lab
  Scenario: The external CA cannot be reached: every check is logged and retried, nothing rotates
    When the external CA stops answering
    Then the service audits 3 failed checks in a row as "external-ca-unreachable" and installs no new intermediate
    When the external CA answers again
    Then the service's next check believes its CRL again

  @attack @needs:own-lab
  Scenario: The service's credential at the external CA cannot revoke; only the CA's operator can
    When an attacker with the service's stolen credential asks the external CA to revoke the lab's intermediate
    Then the external CA refuses it with 403 "not-operator" and logs the refusal
    And the external CA's CRL does not list the lab's intermediate, and nothing was rotated
