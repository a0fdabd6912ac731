@uc01 @UC-01
Feature: UC-01 New customer installation
  A service engineer installs a new site: turns the provisioning service ON for the site's
  addresses, the Lumia application server and the Reveos devices provision themselves and
  authenticate each other over MQTT with mutual TLS, then the engineer turns provisioning OFF.

  Background:
    Given a running lab

  @FR-CA-002 @FR-CA-003 @FR-PS-001 @FR-PS-003 @FR-LA-001 @FR-LA-003 @FR-LA-004 @FR-DS-002 @FR-DS-003
  @S000-APP-11 @S000-APP-16 @S000-CA-06 @S000-DES-02 @S000-DES-04 @S000-DES-08 @S003-BP-05 @S001-CRT-01 @S004-EST-07 @S000-APP-02 @needs:ca-log
  Scenario: The application and the devices are provisioned and authenticate each other
    Given the service engineer has turned provisioning ON for the installation's addresses
    When the application server is provisioned
    And 3 devices are provisioned
    Then every device's telemetry reaches the application over mutual TLS
    And every certificate and key of the installation uses the profile's key algorithm
    And the application's commands reach every device and are answered
    And the application reports every certificate as "active" within a 1 hour window
    And the application reports every certificate as "expiring" within a 48 hour window
    When the service engineer turns provisioning OFF
    Then a device that was not provisioned can no longer obtain a certificate
    And the provisioned devices stay connected
    And the inventory lists a bootstrap and an operational certificate for every device
    And the inventory holds every certificate the two step-ca authorities logged as issued
