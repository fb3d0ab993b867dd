// Admin alert targets: `prod` becomes `notifications`, `test` becomes `notifications_test`
// (used instead with -t/--test). The Slack URLs are secrets: keep the rendered file unreadable
// to other accounts.
{
  prod: {
    SLACK_ALERTS_URL: 'https://hooks.slack.com/services/T000/B000/XXXX',
    admin_email: ['tokens-admins@example.org', 'oncall@example.org'],
  },
  test: {
    SLACK_ALERTS_URL: 'https://hooks.slack.com/services/T000/B000/YYYY',
    admin_email: 'tokens-dev@example.org',  // a string is split on whitespace
  },
}
