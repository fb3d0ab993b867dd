// `email`: the SMTP relay both executables send notifications through.
{
  from: 'managed-tokens@example.org',
  smtpHost: 'smtp.example.org',
  smtpPort: 25,
}
