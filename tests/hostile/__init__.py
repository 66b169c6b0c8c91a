"""Hostile input, by the four promises ledgerkit makes: nothing lost (test_lost_*), nothing leaked
(test_leaked_*), no hang and no internal error (test_hang_*), every tampering caught (test_tamper_*)."""
