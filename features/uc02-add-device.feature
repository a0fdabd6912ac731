@uc02 @UC-02
Feature: UC-02 Add a device to an existing installation
  A running installation gets one more device. The engineer opens provisioning for that
  device's address only; the devices already installed keep working undisturbed. The new
  device's certificate client is the lab's own or the step CLI, the client seed 000's devices
  use (its requests come from 127.0.0.1, which the engineer white-lists with the address).

  Background:
    Given a running lab

  @FR-PS-002 @FR-DS-002 @FR-DS-003 @S000-DES-05 @S001-CRT-01
  Scenario Outline: A new device joins while the installed ones keep running undisturbed (<client>)
    Given an installation with the application and 2 devices sending telemetry every 50 ms
    And the new device's certificate client is the <client>
    When the service engineer turns provisioning ON for the new device's address only
    And the new device is provisioned and connects
    And the service engineer turns provisioning OFF
    Then the new device's telemetry reaches the application
    And every certificate and key of the installation uses the profile's key algorithm
    And the installed devices lost no telemetry and were never disconnected

    Examples:
      | client            |
      | lab's Node client |
      | step CLI          |
