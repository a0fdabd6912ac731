@fleet @S000-BC-01
Feature: A mixed fleet of firmware versions
  Seed 000: Reveos 2.1 provisions itself; until devices are updated, certificates of 2.0 and 1.x
  devices are the service team's manual intervention: the engineer issues one for the device's
  identifier through the admin API (from the device's CSR, or with a key the service makes, over
  HTTPS only) and installs it into the device's store. From firmware "x" (2.0 by default,
  devices.certificateRequiredFirmware) certificate authentication is required. Below x a device
  may instead hold a legacy credential: a password for the broker's legacy listener, reaching only
  its own topics under the legacy tree, which the application tells apart (docs/trust-model.md).

  Background:
    Given a running lab
    And the service engineer has turned provisioning ON for the installation's addresses
    And the application server is provisioned

  @FR-DS-002 @FR-DS-003 @UC-02
  Scenario: Firmware 2.1 provisions itself
    Given a device with firmware "2.1"
    When the device powers up
    Then the device is provisioned and its telemetry reaches the application

  @FR-DS-003 @S000-BC-03 @S000-CA-09 @S002-ISS-02 @S002-ISS-06 @S002-INS-04 @S004-KEY-01
  Scenario Outline: Firmware <firmware> waits for the service team, who certifies it <how>
    Given a device with firmware "<firmware>"
    When the device powers up
    Then it waits for the service team's certificate and no CA was asked for one
    When the service engineer certifies the device <how> and installs the certificate
    And the device powers up
    Then it connects with the installed certificate and its telemetry reaches the application

    Examples:
      | firmware | how                              |
      | 2.0      | from the client's own CSR        |
      | 2.0      | with a key the service generates |
      | 1.4      | from the client's own CSR        |

  @S000-BC-02 @needs:legacy-listener
  Scenario: Below x, a device may connect with a legacy credential on the legacy listener
    Given a device with firmware "1.3"
    When the service engineer gives the device a legacy credential
    And the device powers up
    Then it connects with its legacy credential and its telemetry reaches the application as a legacy device

  @FR-MB-001 @S000-BC-02 @needs:broker-log @needs:legacy-listener
  Scenario: From x on, a device is never let in without certificate authentication
    Given a device with firmware "2.0"
    When the service engineer tries to give the device a legacy credential
    Then the service refuses with "certificate-required"
    When the device connects to the broker without a client certificate
    Then the broker refuses the connection because of "no client certificate"
    When the device connects to the broker's legacy listener without a credential
    Then the broker refuses the connection because of "not authorised"

  @S000-BC-02 @needs:own-lab
  Scenario: x is configurable: with x = 1.4, only 1.3 may have a legacy credential
    Given a lab of its own where certificate authentication is required from firmware "1.4"
    Then the service engineer may give a legacy credential to firmware "1.3" but not to firmware "1.4"

  @NFR-REL-002 @FR-DS-003 @S000-UPG-01
  Scenario Outline: Firmware <from> to <to> keeps its valid certificate
    Given a device with firmware "<from>" holding a valid certificate
    When its firmware is changed to "<to>" and it restarts
    Then it connects with the same certificate and no CA was asked for a new one

    Examples:
      | from | to  |
      | 2.0  | 2.1 |
      | 2.1  | 2.0 |

  @FR-DS-002
  Scenario: A device updated to 2.1 that holds no certificate provisions itself
    Given a device with firmware "2.0"
    And the device powers up
    When its firmware is changed to "2.1" and it restarts
    Then the device is provisioned and its telemetry reaches the application
