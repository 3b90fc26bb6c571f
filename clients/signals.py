from django.dispatch import Signal

# Sent inside the discharge transaction with episode= and actor=; scheduling closes
# enrollments and removes the client from future sessions. Receivers must not
# swallow errors: a failed receiver rolls the discharge back.
episode_discharged = Signal()
