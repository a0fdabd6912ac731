@provisioning @FR-PS-001
Feature: Provisioning service gates who may obtain a bootstrap certificate
  The service engineer turns provisioning ON for the installation's addresses, optionally with
  an auto-off timer, and OFF again when done (FR-PS-002, FR-PS-003). Devices obtain their
  bootstrap certificate by ACME through the service, which refuses everyone while OFF and
  every address that is not on the white list, and records every certificate it sees.

  Background:
    Given a running lab

  @FR-PS-003 @S000-CA-06 @S000-APP-13 @NFR-USE-002 @S003-AUD-01
  Scenario: Provisioning is refused while the service is OFF
    Given the provisioning service is OFF
    And a new device
    When the device asks for its bootstrap certificate
    Then the request is refused because "the service is OFF"

  @FR-PS-002 @S000-CA-04 @S000-APP-14 @NFR-USE-002 @S003-AUD-01
  Scenario: Provisioning is refused for an address that is not on the white list
    Given the service engineer turns provisioning ON for another address only
    When the device asks for its bootstrap certificate
    Then the request is refused because "the address is not on the white list"

  @FR-PS-002 @FR-CA-002 @S004-WL-01 @S000-APP-14
  Scenario Outline: Provisioning is served for an address covered by a <entry>
    Given the service engineer turns provisioning ON with a white list holding a "<entry>" for a new device
    When the device asks for its bootstrap certificate
    Then the device receives a bootstrap certificate for its own address

    Examples:
      | entry            |
      | single address   |
      | CIDR block       |
      | address range    |
      | address and mask |

  @FR-PS-003 @S000-CA-07 @S000-CA-08 @NFR-USE-001
  Scenario: The auto-off timer turns the service OFF and clears the white list
    When the service engineer turns provisioning ON with an auto-off timer of 2 seconds and white-lists "127.0.0.0/8"
    Then the service turns itself OFF within 6 seconds
    And the service is OFF and the white list is empty

  @FR-PS-003 @S000-CA-06 @S000-CA-08 @S000-APP-13
  Scenario: Turning the service OFF clears the white list
    When the service engineer turns provisioning ON and white-lists "10.20.0.0/16"
    And the service engineer turns provisioning OFF
    Then the service is OFF and the white list is empty

  # FR-PS-004: the insecure channel issues what a device needs to start (a bootstrap credential
  # for its own white-listed address, from its CSR), and nothing that opens the broker or that
  # names another address or another device's identity.
  @FR-PS-004 @S000-CA-05 @needs:broker-log
  Scenario: Over plain HTTP a white-listed device gets a bootstrap credential for its own address, and nothing more
    Given the service engineer has turned provisioning ON for the installation's addresses
    And a provisioned device connected to the broker
    And a new device
    When the new device sends a CSR for its own identity to the plain-HTTP bootstrap endpoint
    Then it holds a bootstrap credential under the bootstrap root naming only its own address, and the service audits it as served
    And the broker refuses that bootstrap credential with "unknown ca"
    And with it the device obtains its operational certificate, connects and its telemetry reaches the application
    And the plain-HTTP endpoint refuses it a CSR for another address with HTTP 400 "bad-san"
    And the plain-HTTP endpoint refuses it a CSR for the first device's identity with HTTP 403 "identity-taken"

  @FR-MB-001 @S000-CA-15 @S002-REV-01 @S002-REV-02 @S002-REV-04 @S002-VAL-04 @S003-SVAL-04 @S002-TRB-03 @needs:broker-log
  Scenario: A revoked device is refused by the broker when it reconnects
    Given the service engineer has turned provisioning ON for the installation's addresses
    And a provisioned device connected to the broker
    When the service engineer revokes the device's operational certificate
    Then the broker refuses the device when it reconnects

  @NFR-USE-001 @S000-APP-16 @S000-APP-17 @S000-TST-04 @S003-BP-05 @S003-AUD-02 @needs:clock
  Scenario: The inventory shows each certificate's state
    Given the service engineer has turned provisioning ON for the installation's addresses
    And devices whose operational certificates are active, expiring soon, expired and revoked
    Then the inventory reports each operational certificate in its state
    And the application shows each of those devices in the same state, judged at its own clock
