@renewal
Feature: Certificate renewal during operation
  Seed 001 demo scenario 3: short-lived operational certificates are renewed before they
  expire (by default at two thirds of their lifetime) over mutual TLS, and the MQTT session
  moves to the new certificate without losing a QoS 1 message.

  Background:
    Given a running lab
    And the service engineer has turned provisioning ON for the installation's addresses
    And the application server is provisioned

  Scenario: A device renews its short-lived certificate while publishing and loses nothing
    Given a device provisioned with an operational certificate valid for 12 seconds
    And the device publishes telemetry every 50 ms at QoS 1
    When the device renews its certificate at two thirds of its lifetime
    Then the device holds a new certificate with a later expiry and the same identity
    And the application received every telemetry message without a gap
