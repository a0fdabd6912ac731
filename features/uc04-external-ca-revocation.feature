@uc04 @UC-04 @FR-LA-002 @FR-MB-001
Feature: UC-04 Revocation by an external CA
  The lab's issuing CA is an intermediate under a simulated external ("paid") root. When the
  external CA revokes that intermediate, the lab installs a new one; the broker refuses every
  certificate of the old intermediate, and the application and the devices notice at their
  next power-up and are re-issued under the new intermediate. Their bootstrap credentials come
  from the bootstrap authority, which the revocation does not touch: nobody needs the
  provisioning window again.

  Background:
    Given a running lab
    And the service engineer has turned provisioning ON for the installation's addresses

  Scenario: The external CA revokes the issuing intermediate
    Given the application server is provisioned
    And 2 devices are provisioned
    When the external CA revokes the lab's issuing intermediate and the lab installs a new one
    Then the broker refuses the old certificates with "certificate revoked"
    When the application and the devices power up again
    Then each of them finds its certificate "revoked" and re-acquires one under the new intermediate with its bootstrap credential
    And every device's telemetry reaches the application over mutual TLS
