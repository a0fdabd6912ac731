@uc05 @UC-05 @FR-LA-002 @FR-PS-004 @NFR-REL-002
Feature: UC-05 Revocation by the internal CA and root rotation
  The lab CA installs a new root. The CA, the broker and the provisioning service restart on
  it; certificates under the old root are refused. At their next power-up the application and
  the devices no longer trust the broker, fetch the new root over the provisioning service's
  insecure channel (open only to the installation's addresses) and re-acquire their operational
  certificates with their bootstrap credentials, which the bootstrap authority still honours.

  Background:
    Given a running lab
    And the service engineer has turned provisioning ON for the installation's addresses

  @S000-CA-04 @S002-INS-03 @needs:rotate-root
  Scenario: Root rotation: everyone re-acquires and reconnects
    Given the application server is provisioned
    And 2 devices are provisioned
    When the lab CA installs a new root and every component restarts
    Then the broker refuses the old certificates with "unknown ca"
    When the application and the devices power up again
    Then each of them distrusts the broker, fetches the new root and re-acquires its certificate under it with its bootstrap credential
    And every device's telemetry reaches the application over mutual TLS
