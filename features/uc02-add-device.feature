@uc02
Feature: UC-02 Add a device to an existing installation
  A running installation gets one more device. The engineer opens provisioning for that
  device's address only; the devices already installed keep working undisturbed.

  Background:
    Given a running lab

  Scenario: A new device joins while the installed ones keep running undisturbed
    Given an installation with the application and 2 devices sending telemetry every 50 ms
    When the service engineer turns provisioning ON for the new device's address only
    And the new device is provisioned and connects
    And the service engineer turns provisioning OFF
    Then the new device's telemetry reaches the application
    And the installed devices lost no telemetry and were never disconnected
