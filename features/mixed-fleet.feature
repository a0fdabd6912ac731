@fleet @FR-DS-002 @FR-DS-003 @FR-MB-001
Feature: Mixed fleet of firmware versions
  Seed 000 backwards compatibility: firmware from the configured minimum (2.0 by default) on
  uses certificates; older firmware takes the legacy path. The application's policy is that a
  device without a certificate never reaches the broker — legacy devices are updated by hand.

  Background:
    Given a running lab
    And the service engineer has turned provisioning ON for the installation's addresses
    And the application server is provisioned

  Scenario Outline: A device with firmware <firmware> powers up
    Given a device with firmware "<firmware>"
    When the device powers up
    Then the device <outcome>

    Examples:
      | firmware | outcome                                                         |
      | 2.1      | is provisioned and its telemetry reaches the application        |
      | 2.0      | is provisioned and its telemetry reaches the application        |
      | 1.4      | takes the legacy path: no certificate, and the broker refuses it |
      | 1.3      | takes the legacy path: no certificate, and the broker refuses it |
