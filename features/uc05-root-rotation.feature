@uc05 @UC-05 @FR-LA-002 @NFR-REL-002
Feature: UC-05 Revocation by the internal CA and root rotation
  Seed 000 UC-05: "the root or intermediate root used by Certificate Management server is expired
  or revoked". Either the lab's root revokes the issuing intermediate and signs a new one, or the
  lab CA installs a new root. The CA, the broker and the provisioning service restart on the new
  material; the old certificates are refused. At their next power-up the application and the
  devices find their certificates revoked, or no longer trust the broker and fetch the new root
  over the provisioning service's insecure channel (open only to the installation's addresses),
  and re-acquire their operational certificates with their bootstrap credentials, which the
  bootstrap authority still honours.

  Background:
    Given a running lab
    And the service engineer has turned provisioning ON for the installation's addresses

  @FR-MB-001 @S002-REV-04 @S002-VAL-04 @S003-SVAL-04 @S003-DVAL-03 @S003-REV-02 @S002-TRB-03 @needs:rotate-intermediate @needs:broker-log
  Scenario: The root revokes the issuing intermediate: its certificates are refused, everyone re-acquires and reconnects
    Given the application server is provisioned
    And 2 devices are provisioned
    When the lab's root revokes the issuing intermediate, signs a new one and every component restarts
    Then the root's CRL, as the service publishes it to clients, lists the old intermediate
    And the broker refuses the old certificates with "certificate revoked"
    When the application and the devices power up again
    Then each of them finds its certificate "revoked" and re-acquires one under the new intermediate with its bootstrap credential
    And every device's telemetry reaches the application over mutual TLS

  @FR-PS-004 @S000-CA-04 @S002-INS-03 @needs:rotate-root @needs:broker-log
  Scenario: Root rotation: everyone re-acquires and reconnects
    Given the application server is provisioned
    And 2 devices are provisioned
    When the lab CA installs a new root and every component restarts
    Then the broker refuses the old certificates with "unknown ca"
    When the application and the devices power up again
    Then each of them distrusts the broker, fetches the new root and re-acquires its certificate under it with its bootstrap credential
    And every device's telemetry reaches the application over mutual TLS
