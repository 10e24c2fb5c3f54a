import { RecentIds } from './notices'

/**
 * Ids this tab acted on in the last minute (an appointment it saved, an image it uploaded, a
 * capture it assigned or discarded): their live events are not news from another desk.
 */
class OwnChanges extends RecentIds {
  /** Note the appointment of an API answer and pass it on (`.then(ownChanges.noted)`). */
  noted = <T extends { appointment_id?: string; image_id?: string }>(x: T): T => {
    this.add(x.appointment_id ?? x.image_id)
    return x
  }
}

export const ownChanges = new OwnChanges(60_000)
