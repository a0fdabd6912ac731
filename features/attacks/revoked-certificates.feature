@attack @security @FR-MB-001
Feature: A revoked device tries to stay on the broker, or to come back with a renewed certificate
  Every certificate issued for the fleet is in the inventory, renewals straight at step-ca too
  (the service follows step-ca's issuance log), so each can be revoked from the admin API. A
  revocation reaches the broker's CRL for new handshakes and closes the revoked identity's
  connections at once, through Mosquitto's dynamic security plugin: that device alone.

  Background:
    Given a running lab
    And the service engineer has turned provisioning ON for the installation's addresses
    And the application server is provisioned

  @FR-PS-001 @NFR-USE-002 @S000-CA-15 @S003-BP-05 @S002-REV-04 @needs:broker-log
  Scenario: A certificate renewed directly at step-ca is in the inventory and can be revoked by its serial
    Given 2 devices connected to the broker
    When the first device renews its certificate directly at step-ca over mutual TLS
    Then within 1 second the inventory lists the renewed certificate as issued by "renewal"
    When the service engineer revokes the renewed certificate by its serial
    Then the broker disconnects the first device within 5 seconds
    And the broker logs that the dynamic security plugin removed the first device's identity
    And the first device's reconnect is refused with "certificate revoked"
    And the other device and the application were never disconnected

  @S000-CA-15 @S002-REV-04 @needs:broker-log
  Scenario: Revoked devices are disconnected within seconds, each alone
    Given 6 devices connected to the broker
    When the service engineer revokes the operational certificates of 3 of them one after the other
    Then each revoked device is disconnected within 5 seconds of its revocation
    And each revoked device's reconnect is refused with "certificate revoked"
    And the revocation-to-disconnect times are reported with their p50 and p99
    And the devices that were not revoked and the application were never disconnected
