@refusals @FR-MB-001 @NFR-USE-002 @S000-APP-09 @S003-SVAL-01
Feature: The broker refuses every client certificate it must not accept
  Mosquitto requires a client certificate from the lab's CA that is valid now, labelled for
  client authentication and not revoked (FR-MB-001). Each refusal is checked twice: the TLS
  alert the client receives names the cause, and the broker logs the failed verification.

  Background:
    Given a running lab

  @S002-VAL-03 @S002-TRB-01 @needs:ca-keys @needs:broker-log
  Scenario Outline: A client whose certificate is <defect> is refused
    When a client connects to the broker with a certificate that is "<defect>"
    Then the broker refuses the connection because of "a failed verification"
    And the client is told "<alert>"

    Examples:
      | defect        | alert                   |
      | expired       | certificate expired     |
      | not yet valid | bad certificate         |
      | server-only   | unsupported certificate |
      | foreign CA    | unknown ca              |

  @needs:broker-log
  Scenario: A client without any certificate is refused
    When a client connects to the broker without a client certificate
    Then the broker refuses the connection because of "no client certificate"
    And the client is told "certificate required"
