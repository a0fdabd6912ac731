@renewal @renewal-policy
Feature: Seed 002's renewal policy on a scaled clock: grace period, thresholds, CRL cache
  Seed 002 "Renewal Policy" and "Revocation & CRL": the old certificate stays valid through the
  swap and is revoked as superseded after a 7-day grace; alerts at 90 and 30 days before expiry,
  automatic renewal at 7; the CRL is distributed daily and a device caches it up to 48 h offline.
  Each scenario runs on a lab of its own whose "day" (clock.dayMs) lasts a fraction of a second.

  @FR-DS-002 @NFR-REL-001 @FR-MB-001 @NFR-USE-002 @S002-REN-04 @S002-REN-05 @S002-REV-04 @S002-REV-05 @S003-REV-01 @S003-REV-03 @S003-AUD-01 @needs:own-lab @needs:broker-log
  Scenario: After a renewal the old certificate works through the grace period, then the broker refuses it as revoked and the renewed device keeps its session
    Given a lab of the scenario's own whose day lasts 1000 ms and whose superseded grace is 5 days
    And a device of that lab connected to its broker
    When the device renews its certificate and keeps the old one aside
    Then during the grace period the broker still accepts the old certificate
    And once the grace period has passed the service revokes the old certificate as "superseded"
    And the broker refuses the old certificate with "alert certificate revoked" and logs "certificate verify failed"
    And the renewed device was never disconnected and its telemetry is still acknowledged

  @FR-DS-002 @NFR-REL-001 @NFR-SEC-002 @NFR-USE-002 @UC-06 @S000-CA-11 @S002-REN-01 @S002-REN-06 @S003-BP-04 @needs:own-lab @needs:clock
  Scenario: A device alerts at 90 and 30 days before its certificate expires and renews by itself at 7
    Given a lab of the scenario's own whose day lasts 150 ms
    And a device of that lab connected to its broker with a certificate valid for 100 days
    When the device follows the lab's renewal policy until it has renewed
    Then the device logged renewal alerts at 90 and 30 days before expiry, before its renewal
    And the device renewed by itself within 7 days of expiry and the inventory lists the new certificate as issued by "renewal"
    And the renewed device was never disconnected and its telemetry is still acknowledged

  @FR-DS-003 @NFR-USE-002 @S002-SEC-02 @S002-REV-03 @S003-BP-06 @S003-REV-02 @needs:own-lab @needs:restart-service
  Scenario: A device refreshes its offline CRL cache daily; cut off for more than 48 hours it says the cache is stale and refuses new connections until it refreshes
    Given a lab of the scenario's own whose day lasts 1000 ms
    And a device of that lab connected to its broker
    When the device keeps an offline CRL cache on the lab's schedule
    Then the device refreshed its CRL cache 3 times, a day apart
    When the CRL distribution point becomes unreachable for the device
    Then once its cache is older than 48 hours the device logs "crl-stale"
    And the device refuses a new connection to the broker with cause "crl-stale" and keeps its session
    When the CRL distribution point is back
    Then the device's schedule refreshes its cache and a new connection of the device succeeds
