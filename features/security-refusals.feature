@security @NFR-USE-002
Feature: Refusals of misbehaving devices, impostor brokers and forged or replayed requests
  Every refusal is asserted twice: the refused party sees it (a TLS error, an ACME problem, an
  HTTP status) and the refusing component records its cause (Mosquitto's log, step-ca's log,
  the provisioning service's audit log, the client's own log).

  Background:
    Given a running lab
    And the service engineer has turned provisioning ON for the installation's addresses

  # Mosquitto 2.0.11 (Debian 2.0.11-1.2+deb12u2) drops a publish the ACL denies: in MQTT 3.1.1 the
  # publisher cannot tell (a QoS 1 publish is still acknowledged), the refusal is logged at the
  # debug level only ("Denied PUBLISH"), and - with the lab's max_queued_messages 0 and Debian's
  # backported fix for CVE-2024-8376 - the broker then closes the publisher's connection.
  @FR-MB-002 @needs:broker-control @needs:broker-log
  Scenario Outline: A device may not publish on <victim topic> (QoS <qos>)
    Given the application server is provisioned
    And a device connected to the broker and another device holding its own operational certificate
    When the other device publishes a forged message on <victim topic> at QoS <qos>
    Then the broker logs "Denied PUBLISH" from the other device for that topic
    And the forged message never reaches <receiver>
    And the broker closes the other device's connection

    Examples:
      | victim topic                           | qos | receiver        |
      | the first device's telemetry topic     | 0   | the application |
      | the first device's telemetry topic     | 1   | the application |
      | the first device's command topic       | 1   | the first device |

  @FR-MB-002 @needs:broker-control @needs:broker-log @needs:legacy-listener
  Scenario: A device on a legacy credential may not publish on a certificate device's topic
    Given the application server is provisioned
    And a device connected to the broker and another device with firmware "1.3" on a legacy credential of its own
    When the other device publishes a forged message on the first device's telemetry topic at QoS 1
    Then the broker logs "Denied PUBLISH" from the other device for that topic
    And the forged message never reaches the application
    And the broker closes the other device's connection

  @FR-LA-002 @FR-LA-004 @FR-DS-003 @S000-TST-03 @S002-VAL-01 @S002-TRB-02 @S002-SEC-01
  Scenario Outline: The <client> refuses an impostor broker whose certificate comes from a foreign CA
    Given the application server is provisioned
    And a provisioned device
    And an impostor broker on loopback with a certificate for "localhost" and "127.0.0.1" from a foreign CA
    When the <client> connects to the impostor broker
    Then the <client> refuses the broker because it is "broker-untrusted"
    And the <client>'s log records the failed connection with cause "broker-untrusted"
    And the impostor broker never received an MQTT byte from the <client>

    Examples:
      | client      |
      | device      |
      | application |

  @FR-LA-002 @FR-DS-003 @S002-VAL-02 @needs:broker-log
  Scenario Outline: The <client> refuses the real broker under a host name its certificate does not name
    Given the application server is provisioned
    And a provisioned device
    When the <client> connects to the lab broker as "mqtt.hospital.example"
    Then the <client> refuses the broker because it is "host-name-mismatch"
    And the <client>'s log records the failed connection with cause "host-name-mismatch"
    And the broker saw the <client> abort the TLS handshake and never received its CONNECT

    Examples:
      | client      |
      | device      |
      | application |

  @FR-CA-002 @needs:ca-log
  Scenario: A replayed ACME request is refused with badNonce and issues nothing
    Given a client that obtained a bootstrap certificate through the gate and kept every signed ACME request
    When it replays its newAccount, finalize and certificate requests unchanged
    Then each replay is refused with the ACME problem "urn:ietf:params:acme:error:badNonce"
    And the bootstrap step-ca logs each replayed nonce as not found
    And the inventory still holds exactly one certificate for the client's address

  @FR-CA-002 @needs:ca-log
  Scenario: An ACME finalize request with a tampered signature is refused and issues nothing
    Given a client whose ACME order through the gate is ready for finalization
    When it sends its finalize request with one bit of the JWS signature flipped
    Then the request is refused with the ACME problem "urn:ietf:params:acme:error:malformed"
    And the bootstrap step-ca logs that it could not verify the JWS
    And the order is still "ready" and the inventory holds no certificate for the client's address

  @FR-CA-003 @needs:ca-log
  Scenario: step-ca refuses an X5C token that carries a bootstrap certificate but is signed by another key
    Given a provisioned device
    When someone presents the device's bootstrap certificate chain in an X5C token signed with a key of their own
    Then step-ca refuses the request with HTTP 401
    And step-ca logs that the X5C token's signature does not verify
    And the provisioning service audits the refused X5C request
    And the inventory holds no new operational certificate for the device

  @FR-CA-003 @S002-REV-04 @needs:broker-log @needs:ca-log
  Scenario: step-ca refuses to renew a revoked certificate
    Given a provisioned device
    When the service engineer revokes the device's operational certificate
    And the device tries to renew its operational certificate at step-ca
    Then step-ca refuses the renewal with HTTP 401
    And step-ca logs that the certificate has been revoked
    And the device still holds its revoked certificate and nothing new was issued
